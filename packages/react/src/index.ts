// React hooks for Notebox, typed by AppRouter: `trpc.notes.list.useQuery()` and friends, over
// TanStack Query. <NoteboxProvider> holds the tRPC client (batched like the web app and
// @notebox/client) and a QueryClient; it sends the browser's session cookie, or a bearer JWT.
import type { AppRouter } from "@notebox/api";
import { MAX_BATCH_CALLS } from "@notebox/api/limits";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { httpBatchLink, TRPCClientError } from "@trpc/client";
import { createTRPCReact } from "@trpc/react-query";
import { createElement, useMemo, useState, type ReactNode } from "react";

export type { AppRouter, RouterInputs, RouterOutputs } from "@notebox/api";
export { TRPCClientError };

/** Every procedure as hooks: `trpc.notes.list.useQuery({ limit: 20 })`, `trpc.notes.create.useMutation()`. */
export const trpc = createTRPCReact<AppRouter>();

/**
 * The cache helpers of the nearest provider: `useNotebox().notes.list.invalidate()`,
 * `.setData()`, `.fetch()`, and `.client` for plain calls.
 */
export function useNotebox() {
  return trpc.useUtils();
}

/** A bearer credential, or nothing for the session cookie. */
type Token = string | null | undefined;

export interface NoteboxProviderProps {
  /** The Notebox origin, e.g. https://notes.example.com; "" for the page's own origin. */
  url: string;
  /**
   * A JWT (from `auth.issueToken`) sent as `Authorization: Bearer`. Without `token` or
   * `getToken` the browser's Notebox session cookie is sent instead.
   */
  token?: Token;
  /** Called before every request for the JWT to send; cache it and renew it before it expires. */
  getToken?: () => Token | Promise<Token>;
  /**
   * Defaults to a QueryClient of the provider's own, which retries a failed query up to three
   * times, but not when Notebox answered 4xx (signed out, invalid input, not found).
   */
  queryClient?: QueryClient;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  children?: ReactNode;
}

/** Notebox's 4xx answers are final: asking again would get the same. */
function retryQuery(failures: number, error: unknown): boolean {
  const status =
    error instanceof TRPCClientError ? (error.data as { httpStatus?: number } | undefined)?.httpStatus : undefined;
  return failures < 3 && !(status !== undefined && status >= 400 && status < 500);
}

/** The tRPC client the provider hands to the hooks; rebuilt only when one of these changes. */
function createClient({
  url,
  token,
  getToken,
  fetch: fetchImpl,
}: Omit<NoteboxProviderProps, "queryClient" | "children">) {
  const bearer = async (): Promise<Token> => (getToken ? getToken() : token);
  return trpc.createClient({
    links: [
      httpBatchLink({
        url: `${url.replace(/\/+$/, "")}/api/v1/trpc`,
        maxItems: MAX_BATCH_CALLS,
        async fetch(input, init) {
          const jwt = await bearer();
          const headers = new Headers(init?.headers);
          if (jwt) headers.set("authorization", `Bearer ${jwt}`);
          // A bearer call leaves cookies out: a session cookie riding along on a write from
          // another page would be refused by Notebox's same-origin check.
          return (fetchImpl ?? globalThis.fetch)(input, { ...init, headers, credentials: jwt ? "omit" : "include" });
        },
      }),
    ],
  });
}

/** Makes the hooks of `trpc` and `useNotebox()` work below it. */
export function NoteboxProvider({ url, token, getToken, queryClient, fetch, children }: NoteboxProviderProps) {
  const [ownQueryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { retry: retryQuery } } }));
  const client = useMemo(() => createClient({ url, token, getToken, fetch }), [url, token, getToken, fetch]);
  const queries = queryClient ?? ownQueryClient;
  return createElement(trpc.Provider, {
    client,
    queryClient: queries,
    children: createElement(QueryClientProvider, { client: queries, children }),
  });
}
