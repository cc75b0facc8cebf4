import { SESSION_COOKIE } from "@notebox/api";
import { validateSessionToken, verifyBearerToken, type CoreDeps } from "@notebox/core";
import type { UserRow } from "@notebox/db";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";

/**
 * The caller of a plain HTTP route (file and export routes): a bearer JWT from another service,
 * or the browser's session cookie. Null when neither is valid.
 */
export async function requestUser(c: Context, deps: CoreDeps): Promise<UserRow | null> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
  if (bearer) return verifyBearerToken({ deps, token: bearer });
  const token = getCookie(c, SESSION_COOKIE);
  if (!token) return null;
  const valid = await validateSessionToken({ deps, token });
  return valid?.user ?? null;
}

export function errorBody(code: string, message: string, extra: Record<string, unknown> = {}) {
  return { error: { code, message, ...extra } };
}
