// The rules every request is held to, written once for both ways in: the Hono app (app.ts) and the
// tRPC endpoint that answers /api/v1/trpc/* straight from node:http (trpc-endpoint.ts). Each is a
// plain function of the request's parts, so neither way carries a copy of another's rule.
import { readCookies } from "@notebox/api";
import type { Config } from "@notebox/config";
import { Hono, type Context } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { Logger } from "pino";
import type { WebApp } from "./web";

/** Where tRPC is served. */
export const TRPC_ENDPOINT = "/api/v1/trpc";

/** API answers are never stored by browsers or proxies: they are one person's data. */
export const API_CACHE_CONTROL = "no-store";

/** A request's cookies in the Hono app, by the parser the tRPC endpoint reads them with (readCookies). */
export const cookiesOf = (c: Context) => readCookies(c.req.header("cookie"));

const REQUEST_ID_MAX = 64;

/** The request's id: the caller's X-Request-Id when it is short and plain, else a new UUID. */
export function requestIdFrom(header: string | undefined): string {
  return header && header.length <= REQUEST_ID_MAX && !/[^\w\-=]/.test(header) ? header : crypto.randomUUID();
}

/**
 * Whether a state-changing request must be refused as coming from another site: cookies ride
 * along on cross-site requests, so one carrying our session cookie must come from our own
 * origin. Bearer-token callers carry no cookie and are not affected.
 */
export function crossSiteRefused(
  method: string,
  {
    hasSessionCookie,
    origin,
    publicOrigin,
  }: { hasSessionCookie: boolean; origin: string | undefined; publicOrigin: string },
): boolean {
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return false;
  return hasSessionCookie && origin !== publicOrigin;
}

/** The answer to a request crossSiteRefused refuses (403). */
export const CROSS_SITE_REFUSAL = {
  error: { code: "FORBIDDEN", message: "This request did not come from the Notebox web app." },
} as const;

/**
 * The security headers of every answer, as Hono's secureHeaders sets them for our policy: the
 * middleware runs once on a probe request and its headers are kept, so both ways in send the same
 * set without re-deriving it per request. A header the answer already has is left as it is (a
 * download sets its own sandbox CSP).
 */
export async function securityHeaders(config: Config, web: WebApp | null): Promise<[string, string][]> {
  const probe = new Hono();
  probe.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", ...(web?.scriptHashes ?? [])],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:", "blob:"],
        mediaSrc: ["'self'", "blob:"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameSrc: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
      },
      referrerPolicy: "strict-origin-when-cross-origin",
      xFrameOptions: "DENY",
      crossOriginEmbedderPolicy: false,
      strictTransportSecurity: config.secureCookies ? "max-age=31536000; includeSubDomains" : false,
    }),
  );
  probe.get("/", (c) => c.body(null, 204));
  const answer = await probe.request("/");
  return [...answer.headers].filter(([name]) => name !== "content-type");
}

export interface RequestLine {
  requestId: string;
  method: string;
  path: string;
  status: number;
  ms: number;
}

/**
 * The one log line of every request: an error for a 5xx, else at info. Written by the process's
 * logger with the request's id in the line (what the request's own logger would add), so a request
 * that logs nothing else never builds that child logger, and one below the level costs nothing.
 */
export function logRequest(logger: Logger, started: number, line: Omit<RequestLine, "ms">): void {
  const level = line.status >= 500 ? "error" : "info";
  if (!logger.isLevelEnabled(level)) return;
  const entry: RequestLine = { ...line, ms: Math.round((performance.now() - started) * 10) / 10 };
  logger[level](entry, level === "error" ? "request failed" : "request");
}

/** What tRPC reports of a failed procedure: a bug is logged with its cause; an expected refusal is not. */
export function logProcedureError(
  logger: Logger,
  { error, path }: { error: { code: string; cause?: unknown }; path?: string },
) {
  if (error.code === "INTERNAL_SERVER_ERROR") {
    logger.error({ err: error.cause ?? error, path }, "unexpected error in procedure");
  }
}
