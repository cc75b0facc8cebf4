// GET /api/v1/auth/oidc/start?next=/path sends the browser to the OpenID provider; the provider
// sends it back to GET /api/v1/auth/oidc/callback, which signs in and lands on `next` (or on the
// sign-in page for a second factor, a password that links an existing account, or a failure it
// then explains). Both answer with redirects: a person is following them, not a program.
import {
  AppError,
  authenticate,
  finishSso,
  hashToken,
  requestMeta,
  requireCaller,
  SSO_FLOW_TTL_MS,
  startSso,
} from "@notebox/core";
import type { Config } from "@notebox/config";
import {
  DEVICE_COOKIE,
  SESSION_COOKIE,
  serializeDeviceCookie,
  serializeSessionCookie,
  serializeSsoCookie,
  SSO_FLOW_COOKIE,
  SSO_LINK_COOKIE,
} from "@notebox/api";
import { Hono, type Context } from "hono";
import type { Env } from "../app";
import { clientIp } from "../client-ip";
import { cookiesOf } from "../http-rules";

const LANDING_BASE = "http://notebox.invalid";

/**
 * A path of this site to land on. Anything else (another origin, `//host`, a backslash or a
 * control character a browser would drop or a header would refuse) lands on the home page.
 */
function landing(next: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  if (!next?.startsWith("/") || /[\u0000-\u0020\u007f\\]/.test(next)) return "/";
  const url = new URL(next, LANDING_BASE);
  return url.origin === LANDING_BASE ? `${url.pathname}${url.search}${url.hash}` : "/";
}

export function ssoRoutes(config: Pick<Config, "secureCookies" | "trustProxy">) {
  const app = new Hono<Env>();
  const secure = config.secureCookies;
  const meta = (c: Context<Env>) =>
    requestMeta({ ip: clientIp(c, config.trustProxy), userAgent: c.req.header("user-agent") ?? null });
  const failed = (c: Context<Env>, reason: string) => {
    c.header("Set-Cookie", serializeSsoCookie(SSO_FLOW_COOKIE, null, secure, 0), { append: true });
    return c.redirect(`/sign-in?sso_error=${encodeURIComponent(reason)}`, 302);
  };
  /** A refusal a person can act on goes back to the sign-in page with its reason; a bug is a 500. */
  const explain = (c: Context<Env>, error: unknown) => {
    if (!(error instanceof AppError) || error.code === "NOT_FOUND") throw error;
    return failed(c, error.reason ?? error.code.toLowerCase());
  };

  app.get("/start", async (c) => {
    try {
      const { location, flowCookie } = await startSso({
        deps: c.var.deps,
        next: landing(c.req.query("next")),
        meta: meta(c),
      });
      c.header("Set-Cookie", serializeSsoCookie(SSO_FLOW_COOKIE, flowCookie, secure, SSO_FLOW_TTL_MS), {
        append: true,
      });
      return c.redirect(location, 302);
    } catch (error) {
      return explain(c, error);
    }
  });

  app.get("/callback", async (c) => {
    const url = new URL(c.req.url);
    // The person said no at the provider, or it refused: nothing to exchange.
    if (url.searchParams.has("error")) return failed(c, "sso_cancelled");
    const cookies = cookiesOf(c);
    const sessionToken = cookies[SESSION_COOKIE] ?? null;
    const deps = c.var.deps;
    try {
      const signedIn = sessionToken
        ? requireCaller(await authenticate({ deps, authorization: null, sessionToken }))
        : null;
      const outcome = await finishSso({
        deps,
        search: url.search,
        flowCookie: cookies[SSO_FLOW_COOKIE] ?? null,
        meta: meta(c),
        previousSessionId: sessionToken ? hashToken(sessionToken) : null,
        currentUserId: signedIn?.user.id ?? null,
        deviceToken: cookies[DEVICE_COOKIE] ?? null,
      });
      c.header("Set-Cookie", serializeSsoCookie(SSO_FLOW_COOKIE, null, secure, 0), { append: true });
      if (outcome.kind === "link_required") {
        c.header("Set-Cookie", serializeSsoCookie(SSO_LINK_COOKIE, outcome.linkCookie, secure, SSO_FLOW_TTL_MS), {
          append: true,
        });
        return c.redirect("/sign-in?sso=link", 302);
      }
      // The challenge rides in the fragment, which never reaches a server log or a Referer.
      if (outcome.kind === "second_factor") return c.redirect(`/sign-in#challenge=${outcome.result.challenge}`, 302);
      c.header("Set-Cookie", serializeSessionCookie(outcome.result.token, secure), { append: true });
      c.header("Set-Cookie", serializeDeviceCookie(outcome.result.deviceToken, secure), { append: true });
      return c.redirect(outcome.next, 302);
    } catch (error) {
      return explain(c, error);
    }
  });

  return app;
}
