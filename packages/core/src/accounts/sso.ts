// Sign-in with an OpenID Connect provider (openid-client): the authorization code flow with PKCE,
// state and nonce, kept between the two redirects in a sealed, short-lived cookie. An identity
// (issuer + subject) signs in the account it is linked to. A first sign-in links only through an
// email the provider has verified: to an existing account after its owner proves the Notebox
// password (or at once when the administrator allows automatic linking), or to a new account when
// the sign-up policy lets that address sign up.
import { randomBytes } from "node:crypto";
import { newId, UniqueConstraintError, type Transaction, type UserRow } from "@notebox/db";
import * as oidc from "openid-client";
import { currentSettings, domainAllowed, ssoOf } from "../admin/settings";
import { recordAudit } from "../audit";
import { generateToken, seal, unseal } from "../crypto";
import type { CoreDeps, RequestMeta } from "../deps";
import { AppError } from "../errors";
import { knownDeviceId } from "../sessions/devices";
import { checkUsername, normalizeEmail, usernameKey } from "../users";
import {
  afterFirstFactor,
  refuseUnusableAccount,
  reserveAddressSignIn,
  type SecondFactorRequired,
  type SignedIn,
} from "./login";
import { requireFreshProof, type Proof } from "./fresh-proof";
import { createVerifiedAccount } from "./verified-account";

/** How long the person has at the provider, and to prove the password for a link. */
export const SSO_FLOW_TTL_MS = 10 * 60 * 1000;
export const SSO_CALLBACK_PATH = "/api/v1/auth/oidc/callback";

const STATE_PURPOSE = "notebox sso state v1";
const LINK_PURPOSE = "notebox sso link v1";

/** A sign-in that could not finish, with the reason the sign-in page explains. */
const ssoFailed = (
  reason: string,
  message: string,
  code: "UNAUTHORIZED" | "FORBIDDEN" | "BAD_REQUEST" | "CONFLICT" = "FORBIDDEN",
) => new AppError(code, message, { reason });

function configured(deps: CoreDeps) {
  if (!deps.config.oidc) throw new AppError("NOT_FOUND", "Single sign-on is not set up here.");
  return deps.config.oidc;
}

/**
 * The provider's configuration, discovered once per process (again after a failure). Plain http
 * is allowed only for a provider on this machine (a development or test set-up).
 */
const discovered = new WeakMap<object, Promise<oidc.Configuration>>();
function provider(deps: CoreDeps): Promise<oidc.Configuration> {
  const settings = configured(deps);
  let found = discovered.get(deps.config);
  if (!found) {
    const issuer = new URL(settings.issuer);
    const local = ["localhost", "127.0.0.1", "[::1]"].includes(issuer.hostname);
    found = oidc
      .discovery(
        issuer,
        settings.clientId,
        settings.clientSecret ? { client_secret: settings.clientSecret } : undefined,
        settings.clientSecret ? oidc.ClientSecretPost(settings.clientSecret) : oidc.None(),
        { execute: local ? [oidc.allowInsecureRequests] : [], timeout: 10 },
      )
      .catch((error: unknown) => {
        discovered.delete(deps.config);
        throw error;
      });
    discovered.set(deps.config, found);
  }
  return found.catch(() => {
    throw new AppError("SERVICE_UNAVAILABLE", `${settings.name} cannot be reached. Try again in a moment.`, {
      reason: "sso_unavailable",
    });
  });
}

const sealJson = (deps: CoreDeps, purpose: string, value: unknown) =>
  seal(deps.config.jwtSecret, purpose, new TextEncoder().encode(JSON.stringify(value)));

function unsealJson<T extends { exp: number }>(deps: CoreDeps, purpose: string, text: string | null): T | null {
  const bytes = text ? unseal(deps.config.jwtSecret, purpose, text) : null;
  if (!bytes) return null;
  const value = JSON.parse(new TextDecoder().decode(bytes)) as T;
  return value.exp > Date.now() ? value : null;
}

interface FlowState {
  state: string;
  nonce: string;
  verifier: string;
  /** The page to land on after signing in. */
  next: string;
  exp: number;
}

/** Where the browser goes first, and the sealed state the callback will check. */
export async function startSso({ deps, next, meta }: { deps: CoreDeps; next: string; meta: RequestMeta }) {
  const settings = configured(deps);
  await deps.limits.consume("loginPerIp", meta.ipKey);
  const config = await provider(deps);
  const flow: FlowState = {
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    verifier: oidc.randomPKCECodeVerifier(),
    next,
    exp: Date.now() + SSO_FLOW_TTL_MS,
  };
  const location = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${deps.config.publicUrl}${SSO_CALLBACK_PATH}`,
    scope: settings.scopes,
    state: flow.state,
    nonce: flow.nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
    code_challenge_method: "S256",
  });
  return { location: location.href, flowCookie: sealJson(deps, STATE_PURPOSE, flow) };
}

/** A first sign-in matched an existing account by email: its owner proves the password next. */
interface PendingLink {
  userId: string;
  issuer: string;
  subject: string;
  email: string;
  exp: number;
}

export type SsoOutcome =
  | { kind: "signed_in"; result: SignedIn; next: string }
  | { kind: "second_factor"; result: SecondFactorRequired }
  | { kind: "link_required"; linkCookie: string; email: string };

interface Claims {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

/** The identity the provider vouches for: the ID token's claims, completed from userinfo. */
async function exchange(deps: CoreDeps, search: string, flow: FlowState): Promise<Claims> {
  const config = await provider(deps);
  let tokens;
  try {
    tokens = await oidc.authorizationCodeGrant(
      config,
      new URL(`${deps.config.publicUrl}${SSO_CALLBACK_PATH}${search}`),
      {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      },
    );
  } catch {
    // A wrong state, an error from the provider, a code used twice or expired, a bad ID token.
    throw ssoFailed(
      "sso_failed",
      `Signing in with ${configured(deps).name} did not complete. Try again.`,
      "UNAUTHORIZED",
    );
  }
  const idToken = tokens.claims()!;
  let claims: Record<string, unknown> = idToken;
  if (typeof idToken.email !== "string" && tokens.access_token) {
    try {
      claims = { ...(await oidc.fetchUserInfo(config, tokens.access_token, idToken.sub)), ...idToken };
    } catch {
      // Without userinfo the identity still signs in an account it is linked to.
    }
  }
  const email = typeof claims.email === "string" ? normalizeEmail(claims.email) : null;
  const name = typeof claims.preferred_username === "string" ? claims.preferred_username : null;
  return { subject: idToken.sub, email, emailVerified: claims.email_verified === true, name };
}

/** A username for a new account from what the provider says, unique here. */
async function freeUsername(deps: CoreDeps, claims: Claims): Promise<string> {
  const base = (claims.name ?? claims.email!.split("@")[0]!).replace(/[^\p{L}\p{N}._-]/gu, "_").slice(0, 24);
  for (let attempt = 0; attempt < 5; attempt++) {
    const candidate = attempt === 0 ? base : `${base}_${randomBytes(2).toString("hex")}`;
    const { username } = checkUsername(candidate.length >= 3 ? candidate : `user_${candidate}`);
    if (username && !(await deps.db.models.User.findOne({ where: { usernameKey: usernameKey(username) } })))
      return username;
  }
  return `user_${randomBytes(4).toString("hex")}`;
}

type Identity = { issuer: string; subject: string; email: string };

/** Links `identity` to `user` in `transaction`, audited. */
async function recordLink(
  deps: CoreDeps,
  user: UserRow,
  identity: Identity,
  meta: RequestMeta,
  details: Record<string, unknown>,
  transaction: Transaction,
) {
  await deps.db.models.SsoIdentity.create(
    { id: newId(), userId: user.id, ...identity, createdAt: new Date() },
    { transaction },
  );
  await recordAudit({
    deps,
    action: "sso_linked",
    actorId: user.id,
    target: user,
    ip: meta.ip,
    details: { issuer: identity.issuer, email: identity.email, ...details },
    transaction,
  });
}

async function linkIdentity(
  deps: CoreDeps,
  user: UserRow,
  identity: Identity,
  meta: RequestMeta,
  details: Record<string, unknown> = {},
) {
  try {
    await deps.db.transaction((transaction) => recordLink(deps, user, identity, meta, details, transaction));
  } catch (error) {
    if (error instanceof UniqueConstraintError) {
      throw ssoFailed(
        "sso_already_linked",
        "This account is linked to another single sign-on identity already.",
        "CONFLICT",
      );
    }
    throw error;
  }
}

/** Opens an account for a first single sign-on with a verified email, when sign-up allows it. */
async function createSsoAccount(deps: CoreDeps, claims: Claims, issuer: string, meta: RequestMeta): Promise<UserRow> {
  const email = claims.email!;
  const username = await freeUsername(deps, claims);
  // The hash of a secret thrown away: the account signs in with its provider until it sets a password.
  const passwordHash = await deps.passwords.hash(generateToken(), { key: meta.ipKey, known: true });
  return deps.db.transaction(async (transaction) => {
    const user = await createVerifiedAccount(
      deps,
      { email, username, passwordHash, hasPassword: false },
      () => ssoFailed("sso_failed", "An account with this email appeared meanwhile. Try again."),
      transaction,
    );
    await recordLink(deps, user, { issuer, subject: claims.subject, email }, meta, { created: true }, transaction);
    return user;
  });
}

/**
 * The provider sent the browser back: checks state, nonce and PKCE, exchanges the code, and signs
 * in (or asks for the second factor, or for the password that links an existing account).
 */
export async function finishSso({
  deps,
  search,
  flowCookie,
  meta,
  previousSessionId,
  currentUserId,
  deviceToken,
}: {
  deps: CoreDeps;
  /** The account this browser is signed in to, if any: an unlinked identity is linked to it. */
  currentUserId?: string | null;
  /** The callback's query string, "?code=…&state=…". */
  search: string;
  flowCookie: string | null;
  meta: RequestMeta;
  previousSessionId?: string | null;
  deviceToken?: string | null;
}): Promise<SsoOutcome> {
  const { issuer, name } = configured(deps);
  const reservation = await reserveAddressSignIn(deps.limits, meta);
  const flow = unsealJson<FlowState>(deps, STATE_PURPOSE, flowCookie);
  if (!flow)
    throw ssoFailed("sso_expired", "This sign-in took too long or was started elsewhere. Try again.", "BAD_REQUEST");
  const claims = await exchange(deps, search, flow);
  await reservation.succeeded();
  const { User, SsoIdentity } = deps.db.models;
  const settings = await currentSettings(deps);

  let user: UserRow | null = null;
  const linked = await SsoIdentity.findOne({ where: { issuer, subject: claims.subject } });
  if (linked) {
    user = await User.findByPk(linked.userId);
    if (user) await linked.update({ lastUsedAt: new Date() });
  } else if (currentUserId) {
    // Signed in already (the account page's "Link"): the person holds both, so they are linked.
    user = await User.findByPk(currentUserId);
    if (user) {
      const email = claims.email ?? user.email;
      await linkIdentity(deps, user, { issuer, subject: claims.subject, email }, meta);
    }
  } else {
    if (!claims.email || !claims.emailVerified) {
      throw ssoFailed(
        "sso_email_unverified",
        `${name} has not verified your email address, so it cannot sign you in here. Verify it there first.`,
      );
    }
    const existing = await User.findOne({ where: { email: claims.email } });
    if (existing?.emailVerifiedAt) {
      await refuseUnusableAccount(deps, existing, meta);
      const identity = { issuer, subject: claims.subject, email: claims.email };
      // Without password sign-in there is no password to prove: the provider's word links.
      if (!settings.ssoAutoLink && settings.passwordSignIn) {
        const pending: PendingLink = { userId: existing.id, ...identity, exp: Date.now() + SSO_FLOW_TTL_MS };
        return { kind: "link_required", linkCookie: sealJson(deps, LINK_PURPOSE, pending), email: claims.email };
      }
      await linkIdentity(deps, existing, identity, meta, { automatic: true });
      user = existing;
    } else {
      if (settings.signUp !== "open" || !domainAllowed(settings, claims.email)) {
        throw ssoFailed(
          "sso_sign_up_closed",
          settings.signUp === "invite"
            ? "Sign-up here is by invitation: ask an administrator to invite this address."
            : "There is no account for this address, and sign-up is closed.",
        );
      }
      user = await createSsoAccount(deps, claims, issuer, meta);
    }
  }
  if (!user) throw ssoFailed("sso_failed", `Signing in with ${name} did not complete. Try again.`, "UNAUTHORIZED");
  await refuseUnusableAccount(deps, user, meta);
  const result = await afterFirstFactor(deps, user, settings, {
    meta,
    previousSessionId,
    deviceId: knownDeviceId(deps, deviceToken, user.id),
    details: { method: "sso" },
  });
  return result.status === "signed_in"
    ? { kind: "signed_in", result, next: flow.next }
    : { kind: "second_factor", result };
}

/**
 * After a sign-in of `userId` by other means: links the identity a first single sign-on left
 * pending for this account (the person just proved the password). Returns whether it linked.
 */
export async function completePendingSsoLink(
  deps: CoreDeps,
  linkCookie: string | null,
  userId: string,
  meta: RequestMeta,
): Promise<boolean> {
  const pending = unsealJson<PendingLink>(deps, LINK_PURPOSE, linkCookie);
  if (!pending || pending.userId !== userId || !deps.config.oidc || pending.issuer !== deps.config.oidc.issuer)
    return false;
  const user = await deps.db.models.User.findByPk(userId);
  if (!user) return false;
  await linkIdentity(deps, user, pending, meta);
  return true;
}

/** The account's single sign-on identity as the account page shows it. */
export async function ssoIdentity({ deps, userId }: { deps: CoreDeps; userId: string }) {
  const sso = ssoOf(deps);
  const row = await deps.db.models.SsoIdentity.findOne({ where: { userId } });
  return {
    provider: sso?.name ?? null,
    linked: row
      ? {
          email: row.email,
          linkedAt: row.createdAt.toISOString(),
          lastUsedAt: row.lastUsedAt ? row.lastUsedAt.toISOString() : null,
        }
      : null,
  };
}

/** Unlinks it (a fresh proof first): the account then signs in with its password or passkeys. */
export async function unlinkSso({
  deps,
  userId,
  proof,
  meta,
}: {
  deps: CoreDeps;
  userId: string;
  proof: Proof;
  meta: RequestMeta;
}): Promise<{ status: "unlinked" }> {
  const user = await deps.db.models.User.findByPk(userId);
  if (!user) throw new AppError("UNAUTHORIZED", "Sign in to continue.");
  // Unlinked, an account opened by single sign-on would have no way left to sign in.
  if (!user.hasPassword && user.passkeyCount === 0) {
    throw new AppError(
      "CONFLICT",
      "Set a password first (Forgot password mails a link) or add a passkey: otherwise you could not sign in.",
      { reason: "no_other_sign_in" },
    );
  }
  await requireFreshProof(deps, user, proof);
  await deps.db.transaction(async (transaction) => {
    const removed = await deps.db.models.SsoIdentity.destroy({ where: { userId }, transaction });
    if (removed === 0) throw new AppError("NOT_FOUND", "No single sign-on identity is linked to this account.");
    await recordAudit({ deps, action: "sso_unlinked", actorId: userId, target: user, ip: meta.ip, transaction });
  });
  return { status: "unlinked" };
}
