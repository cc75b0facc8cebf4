// The session cookie: HttpOnly, SameSite=Lax, Path=/, Secure whenever PUBLIC_URL is https. The
// device cookie, with the same flags, holds the signed token of a browser that signed in before.
// Request cookies are read here too, by one parser.
import { DEVICE_TTL_MS, SESSION_TTL_MS, type Authentication } from "@notebox/core";
import { parse } from "cookie";

export const SESSION_COOKIE = "notebox_session";
export const DEVICE_COOKIE = "notebox_device";

/**
 * A request's cookies by name, from its Cookie header (the first of a name wins; %-escapes are
 * decoded). Every route reads cookies through this one parser, so a cookie the tRPC endpoint sees
 * is the one the file, export and sign-in routes see.
 */
export function readCookies(header: string | null | undefined): Record<string, string | undefined> {
  return header ? parse(header) : {};
}

export function serializeDeviceCookie(token: string, secure: boolean): string {
  return [
    `${DEVICE_COOKIE}=${token}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Max-Age=${Math.floor(DEVICE_TTL_MS / 1000)}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

export function serializeSessionCookie(token: string, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${token}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Max-Age=${Math.floor(SESSION_TTL_MS / 1000)}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

export function serializeClearedCookie(secure: boolean): string {
  return [`${SESSION_COOKIE}=`, "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=0", ...(secure ? ["Secure"] : [])].join(
    "; ",
  );
}

/**
 * The Set-Cookie value that carries out an authentication's cookie outcome: the same token with
 * a fresh expiry when the session was renewed, an expired cookie when it is no longer valid, or
 * null when the cookie stays as it is.
 */
export function sessionCookieUpdate(
  cookie: Authentication["cookie"],
  token: string | null,
  secure: boolean,
): string | null {
  if (cookie === "renew" && token) return serializeSessionCookie(token, secure);
  if (cookie === "clear") return serializeClearedCookie(secure);
  return null;
}

/**
 * Single sign-on's two short-lived cookies: the flow's sealed state between the redirect to the
 * provider and its callback (Lax, so the provider's top-level redirect back carries it), and an
 * identity waiting to be linked until its account's owner signs in with the password.
 */
export const SSO_FLOW_COOKIE = "notebox_oidc";
export const SSO_LINK_COOKIE = "notebox_oidc_link";

export function serializeSsoCookie(
  name: typeof SSO_FLOW_COOKIE | typeof SSO_LINK_COOKIE,
  value: string | null,
  secure: boolean,
  maxAgeMs: number,
): string {
  return [
    `${name}=${value ?? ""}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Max-Age=${value === null ? 0 : Math.floor(maxAgeMs / 1000)}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}
