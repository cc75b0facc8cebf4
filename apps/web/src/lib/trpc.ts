// The typed tRPC client for the Notebox API, and the one place that turns its failures into
// something a form can show.
import type { AppRouter, RouterOutputs } from "@notebox/api";
import { MAX_BATCH_CALLS } from "@notebox/api/limits";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";

// Same origin, so fetch sends the HttpOnly session cookie by itself. No transformer: the API
// speaks plain JSON and dates arrive as ISO strings.
export const trpc = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: "/api/v1/trpc", maxItems: MAX_BATCH_CALLS })],
});

export type User = NonNullable<RouterOutputs["auth"]["me"]>;
export type SessionSummary = RouterOutputs["auth"]["sessions"]["list"]["items"][number];
export type ApiKeySummary = RouterOutputs["auth"]["apiKeys"]["list"]["items"][number];
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

function statusMessage(status: number | null): string {
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
      return GENERIC;
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
  const json = isRecord(meta) ? meta.responseJSON : undefined;
  const body = isRecord(json) && isRecord(json.error) ? json.error : null;
  const retryAfter = Number(response.headers.get("retry-after"));
  return {
    message: body && typeof body.message === "string" ? body.message : statusMessage(response.status),
    fieldErrors: {},
    reason: null,
    retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
    code: body && typeof body.code === "string" ? body.code : null,
    httpStatus: response.status,
  };
}

/**
 * Whether a problem means the note or file asked for is not there for this person: a malformed id
 * is as missing as a deleted one, and another person's is reported the same way.
 */
export function isMissing(problem: ApiProblem | null): boolean {
  return problem?.code === "NOT_FOUND" || problem?.code === "BAD_REQUEST";
}
