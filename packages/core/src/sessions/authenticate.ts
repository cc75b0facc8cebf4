// Who is calling: the one reading of a request's credentials, shared by tRPC and the plain HTTP
// routes (file transfer, notes export), so both accept, renew and refuse them alike.
import type { CoreDeps } from "../deps";
import { currentSettings, secondFactorSetupRequired } from "../admin/settings";
import { AppError } from "../errors";
import { API_KEY_PREFIX, validateApiKey, verifyBearerToken } from "../tokens";
import { passwordChangeRequired } from "../users";
import { validateSessionToken, type CallerUser } from "./sessions";

/** How the caller proved who they are: the browser's session cookie, a JWT, or an API key. */
export type Caller =
  | { kind: "session"; user: CallerUser; sessionId: string; apiKeyId: null }
  | { kind: "jwt"; user: CallerUser; sessionId: null; apiKeyId: null }
  | { kind: "apiKey"; user: CallerUser; sessionId: null; apiKeyId: string };

/**
 * What the request's credentials amount to. `cookie` says what the response must do with the
 * session cookie: send it again (its expiry moved), clear it (it no longer names a live session),
 * or leave it alone.
 */
export type Authentication =
  /** No credential came with the request. */
  | { outcome: "anonymous"; caller: null; cookie: "keep" }
  | {
      outcome: "signedIn";
      caller: Caller;
      cookie: "keep" | "renew";
      /** The administrator requires two-factor sign-in of this account, and it has none yet. */
      secondFactorSetupRequired?: boolean;
    }
  /** A bearer credential came and is not valid (expired, revoked, forged); any cookie was not looked at. */
  | { outcome: "bearerRefused"; caller: null; cookie: "keep" }
  /** The session cookie is expired, signed out or revoked: the browser should forget it. */
  | { outcome: "cookieRefused"; caller: null; cookie: "clear" };

/**
 * Reads the `Authorization` header and the session cookie's value. A bearer credential decides
 * alone: when one is sent, a cookie that came along is ignored, so a bad bearer never falls back
 * to the browser's session. Database errors propagate (the HTTP layer answers 503).
 */
export async function authenticate({
  deps,
  authorization,
  sessionToken,
}: {
  deps: CoreDeps;
  authorization: string | null | undefined;
  sessionToken: string | null | undefined;
}): Promise<Authentication> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
  if (bearer) {
    const caller = await bearerCaller(deps, bearer);
    return caller
      ? { outcome: "signedIn", caller, cookie: "keep", ...(await setupRequired(deps, caller)) }
      : { outcome: "bearerRefused", caller: null, cookie: "keep" };
  }
  if (!sessionToken) return { outcome: "anonymous", caller: null, cookie: "keep" };
  const valid = await validateSessionToken({ deps, token: sessionToken });
  if (!valid) return { outcome: "cookieRefused", caller: null, cookie: "clear" };
  const caller: Caller = { kind: "session", user: valid.user, sessionId: valid.session.id, apiKeyId: null };
  return {
    outcome: "signedIn",
    caller,
    cookie: valid.renewed ? "renew" : "keep",
    ...(await setupRequired(deps, caller)),
  };
}

async function setupRequired(deps: CoreDeps, caller: Caller) {
  return { secondFactorSetupRequired: secondFactorSetupRequired(await currentSettings(deps), caller.user) };
}

async function bearerCaller(deps: CoreDeps, bearer: string): Promise<Caller | null> {
  if (bearer.startsWith(API_KEY_PREFIX)) {
    const valid = await validateApiKey({ deps, key: bearer });
    return valid ? { kind: "apiKey", user: valid.user, sessionId: null, apiKeyId: valid.apiKey.id } : null;
  }
  const user = await verifyBearerToken({ deps, token: bearer });
  return user ? { kind: "jwt", user, sessionId: null, apiKeyId: null } : null;
}

/** The answer to a bearer credential that is not valid, wherever a signed-in caller is needed. */
function invalidBearer(): AppError {
  return new AppError("UNAUTHORIZED", "The access token is not valid.");
}

/** The answer to an API key anywhere but auth.issueToken: it must be exchanged for a JWT first. */
function apiKeyNotAccepted(): AppError {
  return new AppError("UNAUTHORIZED", "Exchange the API key for a token with auth.issueToken.");
}

/** What a procedure or route lets through beyond a session or a JWT. */
export interface CallerPolicy {
  /** An API key itself (only auth.issueToken, which exchanges it for a JWT). */
  apiKey?: boolean;
  /** An account that must set a new password first (changing it, its sessions, signing out). */
  beforePasswordChange?: boolean;
  /** An account the administrator requires two-factor sign-in of, before it has set it up. */
  beforeSecondFactorSetup?: boolean;
}

/**
 * The caller a request may act as, under `policy`: the one rule for tRPC procedures and the plain
 * HTTP routes. Throws the refusal (a bearer that is not valid, an API key where a JWT is needed,
 * a password that must be changed first); null when nobody signed in, which each caller words.
 */
export function requireCaller(authentication: Authentication, policy: CallerPolicy = {}): Caller | null {
  if (authentication.outcome === "bearerRefused") throw invalidBearer();
  const caller = authentication.caller;
  if (!caller) return null;
  if (caller.kind === "apiKey" && !policy.apiKey) throw apiKeyNotAccepted();
  if (caller.user.mustChangePassword && !policy.beforePasswordChange) throw passwordChangeRequired();
  if (
    authentication.outcome === "signedIn" &&
    authentication.secondFactorSetupRequired &&
    !policy.beforeSecondFactorSetup
  ) {
    throw new AppError("FORBIDDEN", "Set up two-factor sign-in first: your administrator requires it.", {
      reason: "second_factor_setup_required",
    });
  }
  return caller;
}
