import type { CoreDeps, RequestMeta } from "../deps";
import { recordAudit } from "../audit";
import { AppError } from "../errors";
import type { Limits } from "../limits";
import { issueDeviceToken, knownDeviceId } from "../sessions/devices";
import { createSession, invalidateSession } from "../sessions/sessions";
import { normalizeEmail, toPublicUser, type PublicUser } from "../users";
import {
  currentSettings,
  type AdminSettings,
  passwordSignInAllowed,
  passwordSignInOff,
  secondFactorSetupRequired,
  twoFactorRequiredOf,
} from "../admin/settings";
import { answerSignInChallenge, createSignInChallenge } from "./two-factor";
import type { UserRow } from "@notebox/db";

const wrongCredentials = () => new AppError("UNAUTHORIZED", "Wrong email or password.");

/**
 * Reserves a sign-in attempt as a failure before the password is checked. Every attempt counts
 * against the address's hashing budget. A known device then counts only its own failures;
 * anyone else counts per address, per (account, address) and, with a much higher threshold, per
 * account. A success gives its failure points back.
 */
function reserveSignIn(
  limits: Limits,
  { email, meta, deviceId }: { email: string; meta: RequestMeta; deviceId: string | null },
) {
  return limits.reserve([
    { name: "loginPerIp", key: meta.ipKey, onSuccess: "keep" },
    ...(deviceId
      ? [{ name: "loginFailuresPerDevice" as const, key: deviceId, onSuccess: "reset" as const }]
      : [
          { name: "loginFailuresPerIp" as const, key: meta.ipKey, onSuccess: "refund" as const },
          { name: "loginFailuresPerAccountIp" as const, key: `${email}|${meta.ipKey}`, onSuccess: "reset" as const },
          { name: "loginFailuresPerAccount" as const, key: email, onSuccess: "refund" as const },
        ]),
  ]);
}

export interface SignedIn {
  status: "signed_in";
  user: PublicUser;
  token: string;
  mustChangePassword: boolean;
  twoFactorEnabled: boolean;
  /** False for an account opened by single sign-on or an administrator until a password is chosen. */
  hasPassword: boolean;
  /** The administrator requires two-factor sign-in of this account, and it has none yet. */
  secondFactorSetupRequired: boolean;
  deviceToken: string;
}

/** The password was right; the account has two-factor sign-in on, so no session yet. */
export interface SecondFactorRequired {
  status: "second_factor_required";
  challenge: string;
}

/**
 * Reserves a sign-in attempt that names no account yet (a second step, a passkey, single sign-on)
 * against the address's sign-in limits; a success gives its failure point back.
 */
export function reserveAddressSignIn(limits: Limits, meta: RequestMeta) {
  return limits.reserve([
    { name: "loginPerIp", key: meta.ipKey, onSuccess: "keep" },
    { name: "loginFailuresPerIp", key: meta.ipKey, onSuccess: "refund" },
  ]);
}

/**
 * Refuses a sign-in whose credentials were right but whose account cannot be used yet (email not
 * confirmed) or any more (disabled), with an audit row saying why.
 */
export async function refuseUnusableAccount(deps: CoreDeps, user: UserRow, meta: RequestMeta): Promise<void> {
  if (user.emailVerifiedAt && !user.disabledAt) return;
  const reason = user.disabledAt ? "account_disabled" : "email_not_verified";
  await recordAudit({ deps, action: "sign_in_failed", actorId: null, target: user, ip: meta.ip, details: { reason } });
  if (user.disabledAt) {
    throw new AppError("FORBIDDEN", "This account is disabled. Contact your administrator.", { reason });
  }
  throw new AppError("FORBIDDEN", "Confirm your email address first: enter the code we sent you.", { reason });
}

/** A new session for an account whose credentials were just proven (and a device token). */
export async function startSession(
  deps: CoreDeps,
  account: UserRow,
  {
    meta,
    previousSessionId,
    deviceId,
    details,
  }: {
    meta: RequestMeta;
    previousSessionId?: string | null;
    deviceId: string | null;
    details?: Record<string, unknown>;
  },
): Promise<SignedIn> {
  if (previousSessionId) await invalidateSession({ deps, sessionId: previousSessionId });
  const token = await deps.db.transaction(async (transaction) => {
    // The user row first: its write lock queues simultaneous sign-ins of one account. Inserting the
    // session first would take a shared lock on the row (the foreign key), and two sign-ins each
    // holding one and asking to update it deadlock on MySQL.
    await account.update({ lastLoginAt: new Date() }, { transaction });
    const created = await createSession({ deps, userId: account.id, meta, transaction });
    await recordAudit({
      deps,
      action: "sign_in",
      actorId: account.id,
      target: account,
      ip: meta.ip,
      details,
      transaction,
    });
    return created.token;
  });
  // An imported account signs in with its old password and must choose a new one first.
  return {
    status: "signed_in",
    user: toPublicUser(account),
    token,
    mustChangePassword: Boolean(account.mustChangePassword),
    twoFactorEnabled: account.totpEnabledAt !== null,
    hasPassword: Boolean(account.hasPassword),
    secondFactorSetupRequired: secondFactorSetupRequired(await currentSettings(deps), account),
    deviceToken: issueDeviceToken(deps, account.id, deviceId),
  };
}

/**
 * Unknown address and wrong password give the same answer in about the same time (a dummy hash
 * is verified). Returns a device token for the browser to keep, which lets it sign in while
 * strangers' guesses throttle the account.
 */
export async function login({
  deps,
  email: rawEmail,
  password,
  meta,
  previousSessionId,
  deviceToken,
}: {
  deps: CoreDeps;
  email: string;
  password: string;
  meta: RequestMeta;
  /** The session the browser had, ended so a sign-in always gets a new token. */
  previousSessionId?: string | null;
  /** The device token the browser kept from an earlier sign-in, if any. */
  deviceToken?: string | null;
}): Promise<SignedIn | SecondFactorRequired> {
  const email = normalizeEmail(rawEmail);
  const user = await deps.db.models.User.findOne({ where: { email } });
  const deviceId = user ? knownDeviceId(deps, deviceToken, user.id) : null;
  const reservation = await reserveSignIn(deps.limits, { email, meta, deviceId });

  const caller = { key: deviceId ?? meta.ipKey, known: deviceId !== null };
  // The check and what follows it (the failure's audit row, or the new session) take one turn.
  return deps.passwords.withTurn(caller, async (check): Promise<SignedIn | SecondFactorRequired> => {
    const ok = user ? await check.verify(user.passwordHash, password) : await check.verifyDummy(password);
    if (!user || !ok) {
      await recordAudit({
        deps,
        action: "sign_in_failed",
        actorId: null,
        target: { id: user?.id ?? null, email },
        ip: meta.ip,
      });
      throw wrongCredentials();
    }
    await reservation.succeeded();
    await refuseUnusableAccount(deps, user, meta);
    const settings = await currentSettings(deps);
    if (!passwordSignInAllowed(settings, user)) throw passwordSignInOff();
    return afterFirstFactor(deps, user, settings, { meta, previousSessionId, deviceId });
  });
}

/**
 * After a first factor (the password, or single sign-on): the second step when the account has
 * two-factor sign-in on, else a session.
 */
export async function afterFirstFactor(
  deps: CoreDeps,
  user: UserRow,
  settings: AdminSettings,
  options: Parameters<typeof startSession>[2],
): Promise<SignedIn | SecondFactorRequired> {
  // Two factors are required of this account and its only second factor is a passkey.
  if (!user.totpEnabledAt && user.passkeyCount > 0 && twoFactorRequiredOf(settings, user)) {
    throw new AppError("FORBIDDEN", "Sign in with your passkey: two-factor sign-in is required here.", {
      reason: "passkey_required",
    });
  }
  if (user.totpEnabledAt)
    return { status: "second_factor_required", challenge: await createSignInChallenge(deps, user.id) };
  return startSession(deps, user, options);
}

/**
 * The second step of a sign-in: a TOTP code or a recovery code for the challenge auth.login gave.
 * Counted by the same sign-in limits as passwords, so codes cannot be guessed faster.
 */
export async function loginSecondFactor({
  deps,
  challenge,
  code,
  recoveryCode,
  meta,
  previousSessionId,
  deviceToken,
}: {
  deps: CoreDeps;
  challenge: string;
  code?: string;
  recoveryCode?: string;
  meta: RequestMeta;
  previousSessionId?: string | null;
  deviceToken?: string | null;
}): Promise<SignedIn> {
  const reservation = await reserveAddressSignIn(deps.limits, meta);
  const { user, method } = await answerSignInChallenge(deps, { challenge, code, recoveryCode });
  await reservation.succeeded();
  const deviceId = knownDeviceId(deps, deviceToken, user.id);
  return startSession(deps, user, { meta, previousSessionId, deviceId, details: { secondFactor: method } });
}
