import { SESSION_COOKIE } from "@notebox/api";
import { validateSessionToken, type CoreDeps } from "@notebox/core";
import type { UserRow } from "@notebox/db";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";

/** The signed-in user of a plain HTTP route (file and export routes), or null. */
export async function requestUser(c: Context, deps: CoreDeps): Promise<UserRow | null> {
  const token = getCookie(c, SESSION_COOKIE);
  if (!token) return null;
  const valid = await validateSessionToken({ deps, token });
  return valid?.user ?? null;
}

export function errorBody(code: string, message: string, extra: Record<string, unknown> = {}) {
  return { error: { code, message, ...extra } };
}
