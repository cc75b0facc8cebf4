// A typed Notebox client for other TypeScript services: tRPC typed by AppRouter, authenticated
// with an API key that it exchanges for short-lived JWTs by itself, plus file helpers.
import type { AppRouter } from "@notebox/api";
import { MAX_BATCH_CALLS } from "@notebox/api/limits";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";

export type { AppRouter, RouterInputs, RouterOutputs } from "@notebox/api";
export { TRPCClientError };

export interface NoteboxClientOptions {
  /** The Notebox origin, e.g. https://notes.example.com */
  url: string;
  /** An API key created on the account page (starts with `nbk_`). */
  apiKey: string;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface UploadedFile {
  id: string;
  name: string;
  size: number;
  contentType: string;
  sha256: string;
  createdAt: string;
  updatedAt: string;
}

/** Renew the JWT this long before it expires. */
const RENEW_MARGIN_MS = 60_000;

export function createNoteboxClient({ url, apiKey, fetch: fetchImpl = fetch }: NoteboxClientOptions) {
  const base = url.replace(/\/+$/, "");
  let current: { token: string; expiresAt: number } | null = null;
  let pending: Promise<string> | null = null;

  const keyClient = createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${base}/api/v1/trpc`,
        maxItems: MAX_BATCH_CALLS,
        fetch: fetchImpl,
        headers: { authorization: `Bearer ${apiKey}` },
      }),
    ],
  });

  /** A valid JWT, fetched again shortly before the current one expires. */
  async function token(): Promise<string> {
    if (current && current.expiresAt - Date.now() > RENEW_MARGIN_MS) return current.token;
    pending ??= keyClient.auth.issueToken
      .mutate()
      .then((issued) => {
        current = { token: issued.token, expiresAt: Date.parse(issued.expiresAt) };
        return issued.token;
      })
      .finally(() => {
        pending = null;
      });
    return pending;
  }

  /**
   * Sends with the current JWT; when Notebox refuses it (the user's password or role changed,
   * which ends earlier tokens) it gets a fresh one from the key and tries once more.
   */
  async function withToken(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const send = async () => {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${await token()}`);
      return fetchImpl(input, { ...init, headers });
    };
    const first = await send();
    if (first.status !== 401) return first;
    current = null;
    return send();
  }

  const trpc = createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${base}/api/v1/trpc`, maxItems: MAX_BATCH_CALLS, fetch: withToken })],
  });

  async function authorized(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await withToken(`${base}${path}`, init);
    if (!response.ok) {
      const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
      throw new Error(`Notebox answered ${response.status}: ${body?.error?.message ?? response.statusText}`);
    }
    return response;
  }

  return {
    /** Every procedure of the API, typed: `client.trpc.notes.list.query({ limit: 20 })`. */
    trpc,
    /** Uploads files; each is a Blob (or File) with the name it should have in Notebox. */
    async upload(files: { name: string; data: Blob }[]): Promise<UploadedFile[]> {
      const form = new FormData();
      for (const file of files) form.append("file", file.data, file.name);
      const response = await authorized("/api/v1/files", { method: "POST", body: form });
      return ((await response.json()) as { items: UploadedFile[] }).items;
    },
    /** The file's bytes as a stream; `range` asks for a part (both ends inclusive). */
    async download(id: string, range?: { start: number; end?: number }): Promise<Response> {
      const headers: Record<string, string> = {};
      if (range) headers.range = `bytes=${range.start}-${range.end ?? ""}`;
      return authorized(`/api/v1/files/${encodeURIComponent(id)}/content`, { headers });
    },
    /** The signed-in user's notes as xlsx, csv or json. */
    async exportNotes(format: "xlsx" | "csv" | "json" = "xlsx"): Promise<Response> {
      return authorized(`/api/v1/notes/export?format=${format}`);
    },
  };
}

export type NoteboxClient = ReturnType<typeof createNoteboxClient>;
