// Two-factor sign-in with TOTP (RFC 6238: 30-second steps, 6 digits, SHA-1 as every authenticator
// app expects) and ten single-use recovery codes. The key is kept encrypted with a key derived
// from the server secret; a code is accepted for the current step or the one either side of it,
// and never for a step at or before the last one accepted, so a code cannot be replayed.
import { createHmac, randomBytes } from "node:crypto";
import { newId, type Transaction, type UserRow } from "@notebox/db";
import { templates } from "@notebox/mail";
import { encodeBase32UpperCaseNoPadding } from "@oslojs/encoding";
import { createTOTPKeyURI, generateHOTP } from "@oslojs/otp";
import QRCode from "qrcode";
import { recordAudit } from "../audit";
import { constantTimeEqualHex, hashToken, seal, unseal } from "../crypto";
import type { CoreDeps, RequestMeta } from "../deps";
import { AppError } from "../errors";

const STEP_SECONDS = 30;
const DIGITS = 6;
/** Steps either side of the current one a code is still accepted for (clock drift, slow typing). */
const DRIFT_STEPS = 1;
export const RECOVERY_CODE_COUNT = 10;

/** TOTP keys at rest are sealed with a key derived from the server secret for this purpose. */
const TOTP_KEY_PURPOSE = "notebox totp key v1";

const sealKey = (deps: CoreDeps, key: Uint8Array) => seal(deps.config.jwtSecret, TOTP_KEY_PURPOSE, key);

function unsealKey(deps: CoreDeps, text: string): Uint8Array {
  const key = unseal(deps.config.jwtSecret, TOTP_KEY_PURPOSE, text);
  if (!key) throw new Error("The stored TOTP key does not open with this server secret.");
  return key;
}

/** The step `code` is valid for around `now`, or null. */
function matchingStep(key: Uint8Array, code: string, now = Date.now()): number | null {
  const current = Math.floor(now / 1000 / STEP_SECONDS);
  for (let step = current - DRIFT_STEPS; step <= current + DRIFT_STEPS; step++) {
    const expected = generateHOTP(key, BigInt(step), DIGITS);
    if (constantTimeEqualHex(Buffer.from(expected).toString("hex"), Buffer.from(code).toString("hex"))) return step;
  }
  return null;
}

/** What a recovery code is stored as: keyed by the server secret, like the emailed codes. */
function hashRecoveryCode(deps: CoreDeps, userId: string, code: string): string {
  return createHmac("sha256", deps.config.jwtSecret).update(`recovery-code\0${userId}\0${code}`).digest("hex");
}

/** Recovery codes are typed however people copy them: case, spaces and dashes do not matter. */
export function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, "");
}

/** Ten codes of 10 base32 letters (50 bits each), shown as xxxxx-xxxxx. */
async function newRecoveryCodes(deps: CoreDeps, userId: string, transaction: Transaction): Promise<string[]> {
  const { RecoveryCode } = deps.db.models;
  await RecoveryCode.destroy({ where: { userId }, transaction });
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () =>
    encodeBase32UpperCaseNoPadding(randomBytes(7)).slice(0, 10).toLowerCase(),
  );
  const now = new Date();
  await RecoveryCode.bulkCreate(
    codes.map((code) => ({ id: newId(), userId, codeHash: hashRecoveryCode(deps, userId, code), createdAt: now })),
    { transaction },
  );
  return codes.map((code) => `${code.slice(0, 5)}-${code.slice(5)}`);
}

const wrongCode = () => AppError.field("code", "That code is not right. Type the current code from your app.");

type SecurityChange = Parameters<typeof templates.securityChanged>[1];

/** After a committed change: cached sessions see the account as it is now; its owner is told. */
async function changed(deps: CoreDeps, user: UserRow, change: SecurityChange) {
  await deps.cache.forgetUser(user.id);
  deps.mailer.queue(templates.securityChanged(user.email, change, `${deps.config.publicUrl}/forgot-password`));
}

async function ownUser(deps: CoreDeps, userId: string, transaction?: Transaction): Promise<UserRow> {
  const user = await deps.db.models.User.findByPk(userId, { transaction, lock: transaction?.LOCK.UPDATE });
  if (!user) throw new AppError("UNAUTHORIZED", "Sign in to continue.");
  return user;
}

/**
 * The QR code of `text` as rows of "1" (dark) and "0", for the page to draw as SVG: no image
 * service, nothing for the page to parse as markup.
 */
function qrRows(text: string): string[] {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: "M" });
  return Array.from({ length: modules.size }, (_, row) =>
    Array.from({ length: modules.size }, (_, column) => (modules.get(row, column) ? "1" : "0")).join(""),
  );
}

export async function twoFactorStatus({ deps, userId }: { deps: CoreDeps; userId: string }) {
  const user = await ownUser(deps, userId);
  const left = await deps.db.models.RecoveryCode.count({ where: { userId, usedAt: null } });
  return { enabled: user.totpEnabledAt !== null, recoveryCodesLeft: user.totpEnabledAt ? left : 0 };
}

/** A new key to scan; two-factor sign-in is on only once a code from it is typed (enableTotp). */
export async function setupTotp({ deps, userId }: { deps: CoreDeps; userId: string }) {
  const user = await ownUser(deps, userId);
  if (user.totpEnabledAt) {
    throw new AppError("CONFLICT", "Two-factor sign-in is already on. Turn it off first to use another app.", {
      reason: "two_factor_enabled",
    });
  }
  const key = new Uint8Array(randomBytes(20));
  await user.update({ totpPendingSecret: sealKey(deps, key) });
  const otpauthUrl = createTOTPKeyURI("Notebox", user.email, key, STEP_SECONDS, DIGITS);
  return { secret: encodeBase32UpperCaseNoPadding(key), otpauthUrl, qr: qrRows(otpauthUrl) };
}

export async function enableTotp({
  deps,
  userId,
  code,
  meta,
}: {
  deps: CoreDeps;
  userId: string;
  code: string;
  meta: RequestMeta;
}): Promise<{ recoveryCodes: string[] }> {
  await deps.limits.consume("secondFactorPerAccount", userId);
  const { user, recoveryCodes } = await deps.db.transaction(async (transaction) => {
    const user = await ownUser(deps, userId, transaction);
    if (user.totpEnabledAt) {
      throw new AppError("CONFLICT", "Two-factor sign-in is already on.", { reason: "two_factor_enabled" });
    }
    if (!user.totpPendingSecret) {
      throw new AppError("CONFLICT", "Start the set-up first: scan the new code, then type what your app shows.", {
        reason: "two_factor_not_set_up",
      });
    }
    const step = matchingStep(unsealKey(deps, user.totpPendingSecret), code);
    if (step === null) throw wrongCode();
    await user.update(
      { totpSecret: user.totpPendingSecret, totpPendingSecret: null, totpEnabledAt: new Date(), totpLastStep: step },
      { transaction },
    );
    const recoveryCodes = await newRecoveryCodes(deps, userId, transaction);
    await recordAudit({ deps, action: "two_factor_enabled", actorId: userId, target: user, ip: meta.ip, transaction });
    return { user, recoveryCodes };
  });
  await changed(deps, user, "two_factor_on");
  return { recoveryCodes };
}

/**
 * Checks a second factor of a signed-in account with 2FA on: a TOTP code (not replayed) or an
 * unused recovery code, which is then used up. Throws the field error of the one given.
 */
export async function checkSecondFactor(
  deps: CoreDeps,
  user: UserRow,
  proof: { code?: string; recoveryCode?: string },
  transaction: Transaction,
): Promise<"totp" | "recovery_code"> {
  if (proof.code !== undefined) {
    const step = matchingStep(unsealKey(deps, user.totpSecret!), proof.code);
    if (step === null || (user.totpLastStep !== null && step <= user.totpLastStep)) throw wrongCode();
    await user.update({ totpLastStep: step }, { transaction });
    return "totp";
  }
  const code = normalizeRecoveryCode(proof.recoveryCode ?? "");
  const [used] = await deps.db.models.RecoveryCode.update(
    { usedAt: new Date() },
    { where: { userId: user.id, codeHash: hashRecoveryCode(deps, user.id, code), usedAt: null }, transaction },
  );
  if (used === 0) throw AppError.field("recoveryCode", "That recovery code is not right, or was used already.");
  return "recovery_code";
}

export async function disableTotp({
  deps,
  userId,
  password,
  code,
  meta,
}: {
  deps: CoreDeps;
  userId: string;
  password: string;
  code: string;
  meta: RequestMeta;
}): Promise<{ status: "disabled" }> {
  await deps.limits.consume("secondFactorPerAccount", userId);
  const current = await ownUser(deps, userId);
  const passwordOk = await deps.passwords.withTurn({ key: userId, known: true }, (check) =>
    check.verify(current.passwordHash, password),
  );
  if (!passwordOk) throw AppError.field("password", "That is not your current password.");
  const user = await deps.db.transaction(async (transaction) => {
    const user = await ownUser(deps, userId, transaction);
    if (!user.totpEnabledAt) {
      throw new AppError("CONFLICT", "Two-factor sign-in is already off.", { reason: "two_factor_disabled" });
    }
    await checkSecondFactor(deps, user, { code }, transaction);
    await user.update({ totpSecret: null, totpEnabledAt: null, totpLastStep: null }, { transaction });
    await deps.db.models.RecoveryCode.destroy({ where: { userId }, transaction });
    await recordAudit({ deps, action: "two_factor_disabled", actorId: userId, target: user, ip: meta.ip, transaction });
    return user;
  });
  await changed(deps, user, "two_factor_off");
  return { status: "disabled" };
}

export async function regenerateRecoveryCodes({
  deps,
  userId,
  code,
  meta,
}: {
  deps: CoreDeps;
  userId: string;
  code: string;
  meta: RequestMeta;
}): Promise<{ recoveryCodes: string[] }> {
  await deps.limits.consume("secondFactorPerAccount", userId);
  const { user, recoveryCodes } = await deps.db.transaction(async (transaction) => {
    const user = await ownUser(deps, userId, transaction);
    if (!user.totpEnabledAt) {
      throw new AppError("CONFLICT", "Turn two-factor sign-in on first.", { reason: "two_factor_disabled" });
    }
    await checkSecondFactor(deps, user, { code }, transaction);
    const recoveryCodes = await newRecoveryCodes(deps, userId, transaction);
    await recordAudit({
      deps,
      action: "recovery_codes_regenerated",
      actorId: userId,
      target: user,
      ip: meta.ip,
      transaction,
    });
    return { user, recoveryCodes };
  });
  await changed(deps, user, "recovery_codes_regenerated");
  return { recoveryCodes };
}

// ---------------------------------------------------------------------------------------------
// The second step of a sign-in

export const CHALLENGE_TTL_MS = 5 * 60 * 1000;
export const CHALLENGE_MAX_TRIES = 5;

/** A challenge for a password sign-in of an account with 2FA on; no session yet. */
export async function createSignInChallenge(deps: CoreDeps, userId: string): Promise<string> {
  const token = randomBytes(32).toString("base64url");
  const now = Date.now();
  await deps.db.models.SignInChallenge.create({
    id: hashToken(token),
    userId,
    expiresAt: new Date(now + CHALLENGE_TTL_MS),
    createdAt: new Date(now),
  });
  return token;
}

const challengeEnded = () =>
  new AppError("UNAUTHORIZED", "This sign-in has expired. Sign in again with your password.", {
    reason: "challenge_expired",
  });

/**
 * Answers a sign-in challenge with a TOTP code or a recovery code. The challenge dies when used,
 * after 5 minutes, or at its fifth wrong answer. Returns the account, ready for its session
 * (which the caller creates in `transaction`'s place: see login.ts).
 */
export async function answerSignInChallenge(
  deps: CoreDeps,
  { challenge, code, recoveryCode }: { challenge: string; code?: string; recoveryCode?: string },
): Promise<{ user: UserRow; method: "totp" | "recovery_code" }> {
  const { SignInChallenge } = deps.db.models;
  const id = hashToken(challenge);
  const found = await SignInChallenge.findByPk(id);
  if (!found || found.expiresAt.getTime() <= Date.now() || found.attempts >= CHALLENGE_MAX_TRIES) {
    if (found) await found.destroy();
    throw challengeEnded();
  }
  try {
    return await deps.db.transaction(async (transaction) => {
      const user = await ownUser(deps, found.userId, transaction);
      if (!user.totpEnabledAt || user.disabledAt) throw challengeEnded();
      const method = await checkSecondFactor(deps, user, { code, recoveryCode }, transaction);
      const [ended] = await SignInChallenge.update(
        { attempts: CHALLENGE_MAX_TRIES },
        { where: { id, attempts: found.attempts }, transaction },
      );
      // Answered twice at once: only one of the answers signs in.
      if (ended === 0) throw challengeEnded();
      await SignInChallenge.destroy({ where: { id }, transaction });
      return { user, method };
    });
  } catch (error) {
    if (!(error instanceof AppError && error.code === "BAD_REQUEST")) throw error;
    // A wrong code: one try fewer, and the answer sign-in gives to wrong credentials.
    await SignInChallenge.increment("attempts", { where: { id } });
    throw new AppError("UNAUTHORIZED", error.message, { reason: "wrong_second_factor" });
  }
}
