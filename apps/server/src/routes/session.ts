import { SESSION_COOKIE, sessionCookieUpdate } from "@notebox/api";
import { AppError, authenticate, requireCaller, type CallerUser, type CoreDeps } from "@notebox/core";
import type { Context } from "hono";
import { cookiesOf } from "../http-rules";

/**
 * The caller of a plain HTTP route (file and export routes), read by core's authenticate() and
 * let through by its requireCaller() as tRPC's procedures are: a bearer JWT from another service,
 * or the browser's session cookie, which is sent again when its expiry moved and cleared when it
 * is no longer valid. Without a credential, or with a cookie that is not valid, the answer is 401
 * with `signInTo` ("Sign in to upload files.").
 */
export async function requestUser(c: Context, deps: CoreDeps, signInTo: string): Promise<CallerUser> {
  const token = cookiesOf(c)[SESSION_COOKIE] ?? null;
  const authentication = await authenticate({
    deps,
    authorization: c.req.header("authorization"),
    sessionToken: token,
  });
  const setCookie = sessionCookieUpdate(authentication.cookie, token, deps.config.secureCookies);
  if (setCookie) c.header("Set-Cookie", setCookie, { append: true });
  const caller = requireCaller(authentication);
  if (!caller) throw new AppError("UNAUTHORIZED", `Sign in to ${signInTo}.`);
  return caller.user;
}
