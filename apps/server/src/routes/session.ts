import { SESSION_COOKIE } from "@notebox/api";
import { passwordChangeRequired, validateSessionToken, verifyBearerToken, type CoreDeps } from "@notebox/core";
import type { UserRow } from "@notebox/db";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";

/**
 * The caller of a plain HTTP route (file and export routes): a bearer JWT from another service,
 * or the browser's session cookie. Null when neither is valid. An account that must set a new
 * password first is refused here (403, reason "password_change_required"), as tRPC refuses it.
 */
export async function requestUser(c: Context, deps: CoreDeps): Promise<UserRow | null> {
  const user = await credentialUser(c, deps);
  if (user?.mustChangePassword) throw passwordChangeRequired();
  return user;
}

async function credentialUser(c: Context, deps: CoreDeps): Promise<UserRow | null> {
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
