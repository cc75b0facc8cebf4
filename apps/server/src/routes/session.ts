import { readCookie, SESSION_COOKIE, sessionCookieUpdate } from "@notebox/api";
import { apiKeyNotAccepted, authenticate, invalidBearer, passwordChangeRequired, type CoreDeps } from "@notebox/core";
import type { UserRow } from "@notebox/db";
import type { Context } from "hono";

/**
 * The caller of a plain HTTP route (file and export routes), read by core's authenticate() as
 * tRPC reads it: a bearer JWT from another service, or the browser's session cookie, which is
 * sent again when its expiry moved and cleared when it is no longer valid. Null when no credential
 * came or the cookie was not valid (the route answers 401). Refused with an AppError, as tRPC
 * refuses them outside auth.issueToken: a bearer that is not valid (401), an API key, which must
 * first be exchanged for a JWT (401), and an account that must set a new password first (403,
 * reason "password_change_required").
 */
export async function requestUser(c: Context, deps: CoreDeps): Promise<UserRow | null> {
  const token = readCookie(c.req.header("cookie"), SESSION_COOKIE);
  const { outcome, caller, cookie } = await authenticate({
    deps,
    authorization: c.req.header("authorization"),
    sessionToken: token,
  });
  const setCookie = sessionCookieUpdate(cookie, token, deps.config.secureCookies);
  if (setCookie) c.header("Set-Cookie", setCookie, { append: true });
  if (outcome === "bearerRefused") throw invalidBearer();
  if (!caller) return null;
  if (caller.kind === "apiKey") throw apiKeyNotAccepted();
  if (caller.user.mustChangePassword) throw passwordChangeRequired();
  return caller.user;
}

export function errorBody(code: string, message: string, extra: Record<string, unknown> = {}) {
  return { error: { code, message, ...extra } };
}
