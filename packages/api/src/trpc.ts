// One place builds tRPC: the request context, the error formatter, and the procedure builders.
import {
  AppError,
  authenticate,
  expectedError,
  requestMeta,
  requireCaller,
  type Authentication,
  type Caller,
  type CallerPolicy,
  type CoreDeps,
  type RequestMeta,
} from "@notebox/core";
import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { assertInputBounded } from "./input-bounds";
import {
  DEVICE_COOKIE,
  serializeClearedCookie,
  serializeDeviceCookie,
  serializeSessionCookie,
  SESSION_COOKIE,
  serializeSsoCookie,
  sessionCookieUpdate,
  SSO_LINK_COOKIE,
} from "./cookies";

export interface Context {
  deps: CoreDeps;
  meta: RequestMeta;
  /** Who is calling, as core's authenticate() found it: the browser's cookie, a JWT, or an API key. */
  auth: Caller | null;
  /** What the request's credentials amount to; procedures let callers through by `requireCaller`. */
  authentication: Authentication;
  requestId: string;
  resHeaders: Headers;
  /** The signed token of a browser that signed in before (see core's sessions/devices). */
  deviceToken: string | null;
  setSessionCookie(token: string): void;
  clearSessionCookie(): void;
  setDeviceCookie(token: string): void;
  /** An identity a first single sign-on left to link once this browser signs in (sealed), if any. */
  ssoLinkCookie: string | null;
  clearSsoLinkCookie(): void;
}

export interface CreateContextOptions {
  deps: CoreDeps;
  /** The request's Authorization header, if any (a bearer JWT or API key). */
  authorization: string | null;
  userAgent: string | null;
  /** The request's input as sent, before any parsing: a GET's `input` parameter or a POST's body. */
  input: string | null;
  /** The request's cookies by name (readCookies). */
  cookies: Record<string, string | undefined>;
  resHeaders: Headers;
  ip: string;
  requestId: string;
  /** How many procedure calls the request carries (more than one in a batch). */
  calls: number;
}

async function buildContext({
  deps,
  authorization,
  userAgent,
  input,
  cookies,
  resHeaders,
  ip,
  requestId,
  calls,
}: CreateContextOptions): Promise<Context> {
  // Before anything else reads the input or spends a database query on the caller.
  assertInputBounded({ input, calls });
  const secure = deps.config.secureCookies;
  const setSessionCookie = (token: string) => resHeaders.append("set-cookie", serializeSessionCookie(token, secure));
  const clearSessionCookie = () => resHeaders.append("set-cookie", serializeClearedCookie(secure));
  const setDeviceCookie = (token: string) => resHeaders.append("set-cookie", serializeDeviceCookie(token, secure));

  const token = cookies[SESSION_COOKIE] ?? null;
  const authentication = await authenticate({
    deps,
    authorization,
    sessionToken: token,
  });
  const cookie = sessionCookieUpdate(authentication.cookie, token, secure);
  if (cookie) resHeaders.append("set-cookie", cookie);
  return {
    deps,
    meta: requestMeta({ ip, userAgent }),
    auth: authentication.caller,
    authentication,
    requestId,
    resHeaders,
    deviceToken: cookies[DEVICE_COOKIE] ?? null,
    setSessionCookie,
    clearSessionCookie,
    setDeviceCookie,
    ssoLinkCookie: cookies[SSO_LINK_COOKIE] ?? null,
    clearSsoLinkCookie: () => resHeaders.append("set-cookie", serializeSsoCookie(SSO_LINK_COOKIE, null, secure, 0)),
  };
}

/**
 * The context of a request. What fails while it is built (input past its bounds, a database that
 * cannot be reached while the credential is checked) is answered as a procedure's failure is.
 */
export async function createContext(options: CreateContextOptions): Promise<Context> {
  try {
    return await buildContext(options);
  } catch (error) {
    throw expectedTRPCError(error, options.resHeaders) ?? error;
  }
}

/** An expected failure (core's expectedError) as the tRPC error with its code, Retry-After set; null for a bug. */
function expectedTRPCError(error: unknown, resHeaders: Headers): TRPCError | null {
  const app = expectedError(error);
  if (!app) return null;
  if (app.retryAfterSeconds) resHeaders.set("Retry-After", String(app.retryAfterSeconds));
  return new TRPCError({ code: app.code, message: app.message, cause: app });
}

/** zod issues as `{ field: [messages] }`, the shape the web forms show beside their inputs. */
function fieldErrorsOf(error: ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.join(".") : "_form";
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

const t = initTRPC.context<Context>().create({
  isDev: false,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const isZod = cause instanceof ZodError;
    const app = cause instanceof AppError ? cause : null;
    const internal = error.code === "INTERNAL_SERVER_ERROR";
    return {
      code: shape.code,
      message: internal
        ? "Something went wrong on our side. Please try again."
        : isZod
          ? "Some fields need attention."
          : shape.message,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        fieldErrors: isZod ? fieldErrorsOf(cause) : (app?.fieldErrors ?? null),
        reason: app?.reason ?? null,
        retryAfterSeconds: app?.retryAfterSeconds ?? null,
      },
    };
  },
});

export const router = t.router;

/**
 * The path of the first string in `value` holding a NUL, which no text field may contain. An
 * explicit stack with parent links, so the walk is linear and its depth costs no call stack.
 */
function nulPath(value: unknown): string[] | null {
  interface Node {
    value: unknown;
    key: string;
    parent: Node | null;
  }
  const stack: Node[] = [{ value, key: "", parent: null }];
  while (stack.length) {
    const node = stack.pop()!;
    if (typeof node.value === "string") {
      if (!node.value.includes("\u0000")) continue;
      const path: string[] = [];
      for (let at: Node | null = node; at?.parent; at = at.parent) path.unshift(at.key);
      return path;
    }
    if (node.value && typeof node.value === "object") {
      const entries = Object.entries(node.value);
      for (let i = entries.length - 1; i >= 0; i--)
        stack.push({ value: entries[i]![1], key: entries[i]![0], parent: node });
    }
  }
  return null;
}

/** A NUL anywhere in the input, refused before any schema runs (see `guard`). */
function refuseNul(input: unknown): void {
  const path = nulPath(input);
  if (!path) return;
  const field = path.length ? path.join(".") : "_form";
  throw new TRPCError({
    code: "BAD_REQUEST",
    message: "Text cannot contain NUL characters.",
    cause: new AppError("BAD_REQUEST", "Text cannot contain NUL characters.", {
      fieldErrors: { [field]: ["Text cannot contain NUL characters."] },
    }),
  });
}

/** A domain AppError a procedure failed with (a refusal, a lost database connection) as the tRPC error with its code. */
function settled<R extends { ok: true } | { ok: false; error: TRPCError }>(result: R, resHeaders: Headers): R {
  if (result.ok) return result;
  const answer = expectedTRPCError(result.error.cause, resHeaders);
  if (!answer) return result;
  throw answer;
}

// Each procedure has one middleware, not a chain: every link of tRPC's chain copies the call's
// options, and the hottest procedures are cheap enough for that to show. In it, in this order:
// NUL is refused before any schema runs (no text field accepts it, and some drivers, SQLite
// through Sequelize, would cut the statement at it instead of treating it as data); a signed-in
// procedure checks the caller against its policy (core's requireCaller, which the file and export
// routes use too); and a domain AppError the procedure failed with is answered with its code.

export const publicProcedure = t.procedure.use(async ({ ctx, getRawInput, next }) => {
  refuseNul(await getRawInput());
  return settled(await next(), ctx.resHeaders);
});

/** Signed in, as `policy` allows; `ctx.auth` is then the caller. */
const signedIn = (policy: CallerPolicy) =>
  t.procedure.use(async ({ ctx, getRawInput, next }) => {
    refuseNul(await getRawInput());
    let caller: Caller | null;
    try {
      caller = requireCaller(ctx.authentication, policy);
    } catch (error) {
      throw expectedTRPCError(error, ctx.resHeaders) ?? error;
    }
    if (!caller) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
    // requireCaller answers the request's own caller, which ctx.auth already is: only its type
    // narrows, so the context goes on as it is (tRPC would copy it, key by key, for each call).
    const narrowed: () => ReturnType<typeof next<{ auth: Caller }>> = next;
    return settled(await narrowed(), ctx.resHeaders);
  });

/** Signed in by any means, API key included: only auth.issueToken is built on this. */
export const credentialProcedure = signedIn({ apiKey: true });

/**
 * Signed in with a session or a JWT, and allowed while a new password is still required (an
 * account imported from the original system): only auth.changePassword and auth.sessions.* are
 * built on this.
 */
export const passwordChangeProcedure = signedIn({ beforePasswordChange: true, beforeSecondFactorSetup: true });

/**
 * Signed in, and allowed while the administrator requires a two-factor set-up this account has
 * not done yet: only auth.totp.* is built on this.
 */
export const secondFactorSetupProcedure = signedIn({ beforeSecondFactorSetup: true });

/** Signed in with a session or a JWT. An API key must first be exchanged for a JWT. */
export const protectedProcedure = signedIn({});

export const adminProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (ctx.auth.user.role !== "admin" || ctx.auth.user.disabledAt) {
    throw new TRPCError({ code: "FORBIDDEN", message: "Only administrators can do this." });
  }
  return next();
});
