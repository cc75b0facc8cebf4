// The typed tRPC client for the Notebox API; the one place that notices a session ended
// elsewhere; and the one place that turns failures (of tRPC calls and of the plain HTTP routes)
// into something a form can show.
import type { AppRouter, RouterOutputs } from "@notebox/api";
import { MAX_BATCH_CALLS } from "@notebox/api/limits";
import { createTRPCClient, httpBatchLink, TRPCClientError, type TRPCLink } from "@trpc/client";
import { observable } from "@trpc/server/observable";

let onRefused: () => void = () => {};

/**
 * Says what a refused session means for the app. session.svelte.ts sets it: when someone is
 * signed in there, they are signed out and sent to sign in, and back afterwards.
 */
export function whenSessionRefused(handler: () => void): void {
  onRefused = handler;
}

/**
 * A request of the app was answered "not signed in" (UNAUTHORIZED, HTTP 401): the session ended
 * elsewhere (signed out, revoked, expired, a password changed on another device). The tRPC link
 * below calls this, and so do the plain HTTP routes' callers (uploads, export). Only the first
 * refusal on a signed-in page acts; afterwards nobody is signed in here.
 */
export function sessionRefused(): void {
  onRefused();
}

/**
 * Call options for a call whose caller handles UNAUTHORIZED itself, so the link leaves the page
 * alone: a form with unsaved work (it says so beside the form, where leaving would lose it), or
 * a load function (it answers with a redirect, the way SvelteKit wants loads to).
 */
export const HANDLES_UNAUTHORIZED = { context: { handlesUnauthorized: true } };

/**
 * Procedures whose UNAUTHORIZED answers what was sent rather than says the session ended (a
 * wrong password at sign-in): everything under `auth.` except what manages the signed-in account.
 */
function answersUnauthorized(path: string): boolean {
  return path.startsWith("auth.") && !/^auth\.(?:sessions\.|apiKeys\.|changePassword$)/.test(path);
}

/** Passes every answer on unchanged; an UNAUTHORIZED that means the session ended is reported first. */
const sessionLink: TRPCLink<AppRouter> =
  () =>
  ({ op, next }) =>
    observable((observer) =>
      next(op).subscribe({
        next: (value) => observer.next(value),
        error: (error) => {
          if (
            error.data?.code === "UNAUTHORIZED" &&
            op.context.handlesUnauthorized !== true &&
            !answersUnauthorized(op.path)
          ) {
            sessionRefused();
          }
          observer.error(error);
        },
        complete: () => observer.complete(),
      }),
    );

// Same origin, so fetch sends the HttpOnly session cookie by itself. No transformer: the API
// speaks plain JSON and dates arrive as ISO strings.
export const trpc = createTRPCClient<AppRouter>({
  links: [sessionLink, httpBatchLink({ url: "/api/v1/trpc", maxItems: MAX_BATCH_CALLS })],
});

export type User = NonNullable<RouterOutputs["auth"]["me"]>;
export type SessionSummary = RouterOutputs["auth"]["sessions"]["list"]["items"][number];
export type ApiKeySummary = RouterOutputs["auth"]["apiKeys"]["list"]["items"][number];
export type PasskeySummary = RouterOutputs["auth"]["passkeys"]["list"]["items"][number];
/** A key a password change revoked: what the person needs to recognise it. */
export type RevokedApiKey = RouterOutputs["auth"]["changePassword"]["revokedApiKeys"][number];

export interface ApiProblem {
  /** A sentence written for the person using the app. */
  message: string;
  /** Per-field messages keyed by input name ("email", "code", "newPassword", ...). */
  fieldErrors: Record<string, string[]>;
  /** A stable machine-readable reason such as "email_not_verified", when the server gave one. */
  reason: string | null;
  /** How long until trying again can succeed, for TOO_MANY_REQUESTS. */
  retryAfterSeconds: number | null;
  /** The tRPC error code ("UNAUTHORIZED", "FORBIDDEN", ...), or null when the request never got one. */
  code: string | null;
  httpStatus: number | null;
}

const GENERIC = "Something went wrong. Please try again.";
const OFFLINE = "Could not reach Notebox. Check your connection and try again.";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function stringLists(value: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!isRecord(value)) return out;
  for (const [key, messages] of Object.entries(value)) {
    if (Array.isArray(messages)) {
      const strings = messages.filter((m): m is string => typeof m === "string");
      if (strings.length) out[key] = strings;
    }
  }
  return out;
}

/** What a status says when the answer brings no message; null for the ones that say nothing particular. */
function statusMessage(status: number): string | null {
  switch (status) {
    case 403:
      return "The server refused this request. Reload the page and try again.";
    case 413:
      return "That is too large to send.";
    case 429:
      return "Too many attempts. Wait a little and try again.";
    case 502:
    case 503:
    case 504:
      return "Notebox is not available right now. Try again in a moment.";
    default:
      return null;
  }
}

/** Whatever a tRPC call threw, as a message plus the details forms use. */
export function toProblem(error: unknown): ApiProblem {
  if (!(error instanceof TRPCClientError)) {
    return { message: GENERIC, fieldErrors: {}, reason: null, retryAfterSeconds: null, code: null, httpStatus: null };
  }
  const data: unknown = error.data;
  if (isRecord(data) && typeof data.code === "string") {
    return {
      message: error.message || GENERIC,
      fieldErrors: stringLists(data.fieldErrors),
      reason: typeof data.reason === "string" ? data.reason : null,
      retryAfterSeconds: typeof data.retryAfterSeconds === "number" ? data.retryAfterSeconds : null,
      code: data.code,
      httpStatus: typeof data.httpStatus === "number" ? data.httpStatus : null,
    };
  }

  // Not a tRPC answer: the origin check (403), the body limit (413), a proxy page, or no network.
  const meta: unknown = error.meta;
  const response = isRecord(meta) && meta.response instanceof Response ? meta.response : null;
  if (!response) {
    const offline = error.cause instanceof TypeError || (typeof navigator !== "undefined" && !navigator.onLine);
    return {
      message: offline ? OFFLINE : GENERIC,
      fieldErrors: {},
      reason: null,
      retryAfterSeconds: null,
      code: null,
      httpStatus: null,
    };
  }
  return problemFromBody(response.status, isRecord(meta) ? meta.responseJSON : undefined, {
    retryAfter: response.headers.get("retry-after"),
  });
}

/** Sentences for answers that bring no message of their own, where a caller has better words than the general ones. */
export interface StatusMessages {
  /** By HTTP status: e.g. 413 "This file is too large to upload." */
  byStatus?: Partial<Record<number, string>>;
  /** For any other status, instead of "Something went wrong". */
  otherwise?: string;
}

/**
 * The problem an error answer outside tRPC describes (the file routes, the export, the body limit,
 * the origin check), as the same ApiProblem tRPC failures become. Those answer with the JSON body
 * `{ error: { code, message, reason, fieldErrors, retryAfterSeconds } }` (apps/server's
 * http-errors.ts); anything else (a proxy's page, an empty body) is described by its status.
 */
export function problemFromBody(
  status: number,
  body: unknown,
  { retryAfter = null, messages = {} }: { retryAfter?: string | null; messages?: StatusMessages } = {},
): ApiProblem {
  const error = isRecord(body) && isRecord(body.error) ? body.error : null;
  const bodyWait = error?.retryAfterSeconds;
  const headerWait = Number(retryAfter);
  const retryAfterSeconds =
    typeof bodyWait === "number" && bodyWait > 0
      ? bodyWait
      : Number.isFinite(headerWait) && headerWait > 0
        ? headerWait
        : null;
  return {
    message:
      error && typeof error.message === "string" && error.message
        ? error.message
        : (messages.byStatus?.[status] ?? statusMessage(status) ?? messages.otherwise ?? GENERIC),
    fieldErrors: error ? stringLists(error.fieldErrors) : {},
    reason: error && typeof error.reason === "string" ? error.reason : null,
    retryAfterSeconds,
    code: error && typeof error.code === "string" ? error.code : null,
    httpStatus: status,
  };
}

/** problemFromBody for a fetch() answer: its JSON body is read when it says it has one. */
export async function problemFromResponse(response: Response, messages?: StatusMessages): Promise<ApiProblem> {
  let body: unknown = null;
  if (response.headers.get("content-type")?.includes("json")) {
    try {
      body = await response.json();
    } catch {
      // Not the JSON it claimed to be: the status decides the message.
    }
  }
  return problemFromBody(response.status, body, { retryAfter: response.headers.get("retry-after"), messages });
}

/**
 * Whether a problem means the note or file asked for is not there for this person: a malformed id
 * is as missing as a deleted one, and another person's is reported the same way.
 */
export function isMissing(problem: ApiProblem | null): boolean {
  return problem?.code === "NOT_FOUND" || problem?.code === "BAD_REQUEST";
}
