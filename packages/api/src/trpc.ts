// One place builds tRPC: the request context, the error formatter, and the procedure builders.
import {
  apiKeyNotAccepted,
  AppError,
  authenticate,
  invalidBearer,
  passwordChangeRequired,
  requestMeta,
  type Caller,
  type CoreDeps,
  type RequestMeta,
} from "@notebox/core";
import { isDatabaseUnavailable, type UserRow } from "@notebox/db";
import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError, z } from "zod";
import { assertInputBounded } from "./input-bounds";
import {
  DEVICE_COOKIE,
  readCookie,
  serializeClearedCookie,
  serializeDeviceCookie,
  serializeSessionCookie,
  SESSION_COOKIE,
  sessionCookieUpdate,
} from "./cookies";

/** Who is calling, as core's authenticate() found it. */
export interface Auth {
  user: UserRow;
  /** How the caller proved who they are: the browser's cookie, a JWT, or an API key. */
  kind: Caller["kind"];
  /** The session behind this request; null for bearer callers. */
  sessionId: string | null;
  /** The API key, when the caller presented one (only auth.issueToken accepts it). */
  apiKeyId: string | null;
}

export interface Context {
  deps: CoreDeps;
  meta: RequestMeta;
  auth: Auth | null;
  /** A bearer credential was sent and is not valid (expired, revoked, forged). */
  bearerRefused: boolean;
  requestId: string;
  resHeaders: Headers;
  /** The signed token of a browser that signed in before (see core's sessions/devices). */
  deviceToken: string | null;
  setSessionCookie(token: string): void;
  clearSessionCookie(): void;
  setDeviceCookie(token: string): void;
}

export interface CreateContextOptions {
  deps: CoreDeps;
  req: Request;
  resHeaders: Headers;
  ip: string;
  requestId: string;
  /** How many procedure calls the request carries (more than one in a batch). */
  calls: number;
}

export async function createContext({ deps, req, resHeaders, ip, requestId, calls }: CreateContextOptions): Promise<Context> {
  // Before anything else reads the input or spends a database query on the caller.
  try {
    await assertInputBounded({ req, calls });
  } catch (error) {
    if (error instanceof AppError) throw refusal(error);
    throw error;
  }
  const secure = deps.config.secureCookies;
  const setSessionCookie = (token: string) => resHeaders.append("set-cookie", serializeSessionCookie(token, secure));
  const clearSessionCookie = () => resHeaders.append("set-cookie", serializeClearedCookie(secure));
  const setDeviceCookie = (token: string) => resHeaders.append("set-cookie", serializeDeviceCookie(token, secure));

  const token = readCookie(req.headers.get("cookie"), SESSION_COOKIE);
  const authentication = await authenticate({ deps, authorization: req.headers.get("authorization"), sessionToken: token });
  const cookie = sessionCookieUpdate(authentication.cookie, token, secure);
  if (cookie) resHeaders.append("set-cookie", cookie);
  return {
    deps,
    meta: requestMeta({ ip, userAgent: req.headers.get("user-agent") }),
    auth: authentication.caller,
    bearerRefused: authentication.outcome === "bearerRefused",
    requestId,
    resHeaders,
    deviceToken: readCookie(req.headers.get("cookie"), DEVICE_COOKIE),
    setSessionCookie,
    clearSessionCookie,
    setDeviceCookie,
  };
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

/**
 * Turns a domain AppError into the tRPC error with the same code, and sets Retry-After. A lost
 * database connection is answered as the AppError it stands for.
 */
const appErrors = t.middleware(async ({ ctx, next }) => {
  const result = await next();
  if (result.ok) return result;
  const cause = result.error.cause;
  const app = cause instanceof AppError ? cause : isDatabaseUnavailable(cause) ? AppError.databaseUnavailable() : null;
  if (!app) return result;
  if (app.retryAfterSeconds) ctx.resHeaders.set("Retry-After", String(app.retryAfterSeconds));
  throw new TRPCError({ code: app.code, message: app.message, cause: app });
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

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
      for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i]![1], key: entries[i]![0], parent: node });
    }
  }
  return null;
}

/**
 * NUL is refused before any schema runs: no text field accepts it, and some drivers (SQLite
 * through Sequelize) would cut the statement at it instead of treating it as data.
 */
const noNul = t.middleware(async ({ getRawInput, next }) => {
  const path = nulPath(await getRawInput());
  if (path) {
    const field = path.length ? path.join(".") : "_form";
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: "Text cannot contain NUL characters.",
      cause: new AppError("BAD_REQUEST", "Text cannot contain NUL characters.", {
        fieldErrors: { [field]: ["Text cannot contain NUL characters."] },
      }),
    });
  }
  return next();
});

export const publicProcedure = t.procedure.use(noNul).use(appErrors);

/** A core refusal (the same ones the file and export routes give) as the tRPC error with its code. */
function refusal(error: AppError): TRPCError {
  return new TRPCError({ code: error.code, message: error.message, cause: error });
}

const refuseBadBearer = publicProcedure.use(({ ctx, next }) => {
  if (ctx.bearerRefused) throw refusal(invalidBearer());
  return next();
});

const signedIn = refuseBadBearer.use(({ ctx, next }) => {
  if (!ctx.auth) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
  return next({ ctx: { ...ctx, auth: ctx.auth } });
});

/**
 * An account that must set a new password (one imported from the original system) may only
 * change it, see who it is (auth.me), list or end its sessions and sign out. Everything else is
 * refused here, and on the file and export routes by the server's requestUser.
 */
function refuseUntilPasswordChanged(auth: Auth): void {
  if (auth.user.mustChangePassword) throw refusal(passwordChangeRequired());
}

/** Signed in by any means, API key included: only auth.issueToken is built on this. */
export const credentialProcedure = signedIn.use(({ ctx, next }) => {
  refuseUntilPasswordChanged(ctx.auth);
  return next();
});

/**
 * Signed in with a session or a JWT, and allowed while a new password is still required: only
 * auth.changePassword and auth.sessions.* are built on this.
 */
export const passwordChangeProcedure = signedIn.use(({ ctx, next }) => {
  if (ctx.auth.kind === "apiKey") throw refusal(apiKeyNotAccepted());
  return next();
});

/** Signed in with a session or a JWT. An API key must first be exchanged for a JWT. */
export const protectedProcedure = passwordChangeProcedure.use(({ ctx, next }) => {
  refuseUntilPasswordChanged(ctx.auth);
  return next();
});

export const adminProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (ctx.auth.user.role !== "admin" || ctx.auth.user.disabledAt) {
    throw new TRPCError({ code: "FORBIDDEN", message: "Only administrators can do this." });
  }
  return next();
});

export { z };
