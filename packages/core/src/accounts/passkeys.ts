// Passkeys (WebAuthn) through @simplewebauthn/server: discoverable credentials with user
// verification required, so a passkey names its account by itself and proves two factors at once
// (the device held, and the PIN or biometric that unlocked it). Every ceremony's challenge is kept
// server-side as a hash and taken once; the relying party is PUBLIC_URL's host and origin.
import {
  newId,
  Op,
  UniqueConstraintError,
  type PasskeyChallengePurpose,
  type PasskeyRow,
  type UserRow,
} from "@notebox/db";
import { templates } from "@notebox/mail";
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { recordAudit } from "../audit";
import { hashToken } from "../crypto";
import type { CoreDeps, RequestMeta } from "../deps";
import { AppError } from "../errors";
import { knownDeviceId } from "../sessions/devices";
import { requireFreshProof, type Proof } from "./fresh-proof";
import { refuseUnusableAccount, reserveAddressSignIn, startSession, type SignedIn } from "./login";

const CEREMONY_TTL_MS = 5 * 60 * 1000;
/** The transports WebAuthn names; anything else an authenticator reports is not kept. */
const TRANSPORTS = new Set(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"]);
export const PASSKEYS_PER_ACCOUNT_MAX = 20;
export const PASSKEY_NAME_MAX = 100;

export interface PublicPasskey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  /** Synced between devices by its provider (a password manager, iCloud Keychain…). */
  backedUp: boolean;
}

const toPublicPasskey = (row: PasskeyRow): PublicPasskey => ({
  id: row.id,
  name: row.name,
  createdAt: row.createdAt.toISOString(),
  lastUsedAt: row.lastUsedAt ? row.lastUsedAt.toISOString() : null,
  backedUp: Boolean(row.backedUp),
});

function relyingParty(deps: CoreDeps) {
  const url = new URL(deps.config.publicUrl);
  return { id: url.hostname, origin: url.origin, name: "Notebox" };
}

async function keepChallenge(
  deps: CoreDeps,
  challenge: string,
  purpose: PasskeyChallengePurpose,
  userId: string | null,
): Promise<void> {
  const now = Date.now();
  await deps.db.models.PasskeyChallenge.create({
    id: hashToken(challenge),
    userId,
    purpose,
    expiresAt: new Date(now + CEREMONY_TTL_MS),
    createdAt: new Date(now),
  });
}

const tooManyPasskeys = () =>
  new AppError("CONFLICT", `An account can have ${PASSKEYS_PER_ACCOUNT_MAX} passkeys. Remove one first.`, {
    reason: "too_many_passkeys",
  });

const notVerified = () =>
  new AppError("UNAUTHORIZED", "The passkey could not be verified. Try again.", { reason: "passkey_not_verified" });

/**
 * Takes the challenge the browser's response answers (from its clientDataJSON): single use, so a
 * response cannot be replayed. Returns it for the library to compare, or throws.
 */
async function takeChallenge(
  deps: CoreDeps,
  clientDataJSON: string,
  purpose: PasskeyChallengePurpose,
  userId: string | null,
): Promise<string> {
  let challenge: unknown;
  try {
    challenge = (JSON.parse(Buffer.from(clientDataJSON, "base64url").toString("utf8")) as { challenge?: unknown })
      .challenge;
  } catch {
    throw notVerified();
  }
  if (typeof challenge !== "string" || challenge.length > 200) throw notVerified();
  const taken = await deps.db.models.PasskeyChallenge.destroy({
    where: { id: hashToken(challenge), purpose, userId, expiresAt: { [Op.gt]: new Date() } },
  });
  if (taken === 0) {
    throw new AppError("UNAUTHORIZED", "This passkey prompt has expired. Try again.", {
      reason: "challenge_expired",
    });
  }
  return challenge;
}

async function ownUser(deps: CoreDeps, userId: string): Promise<UserRow> {
  const user = await deps.db.models.User.findByPk(userId);
  if (!user) throw new AppError("UNAUTHORIZED", "Sign in to continue.");
  return user;
}

/** After a committed change: cached sessions see the new count; the owner is told. */
async function changed(deps: CoreDeps, user: UserRow, change: "passkey_added" | "passkey_removed") {
  await deps.cache.forgetUser(user.id);
  deps.mailer.queue(templates.securityChanged(user.email, change, `${deps.config.publicUrl}/forgot-password`));
}

/** The WebAuthn user handle of an account: its id's bytes (no personal data). */
const userHandleOf = (userId: string) => new TextEncoder().encode(userId);

export async function listPasskeys({ deps, userId }: { deps: CoreDeps; userId: string }): Promise<PublicPasskey[]> {
  const rows = await deps.db.models.Passkey.findAll({ where: { userId }, order: [["createdAt", "ASC"]] });
  return rows.map(toPublicPasskey);
}

/** What the browser passes to navigator.credentials.create for a new passkey of this account. */
export async function passkeyRegistrationOptions({
  deps,
  userId,
}: {
  deps: CoreDeps;
  userId: string;
}): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const user = await ownUser(deps, userId);
  const existing = await deps.db.models.Passkey.findAll({
    where: { userId },
    attributes: ["credentialId", "transports"],
  });
  if (existing.length >= PASSKEYS_PER_ACCOUNT_MAX) throw tooManyPasskeys();
  const rp = relyingParty(deps);
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.email,
    userDisplayName: user.username,
    userID: userHandleOf(user.id),
    attestationType: "none",
    // The same authenticator is not registered twice.
    excludeCredentials: existing.map((row) => ({
      id: row.credentialId,
      transports: JSON.parse(row.transports) as string[],
    })),
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
    timeout: CEREMONY_TTL_MS,
  });
  await keepChallenge(deps, options.challenge, "register", userId);
  return options;
}

/** Verifies the browser's new credential against this account's challenge and keeps it. */
export async function registerPasskey({
  deps,
  userId,
  response,
  name,
  meta,
}: {
  deps: CoreDeps;
  userId: string;
  response: RegistrationResponseJSON;
  name?: string;
  meta: RequestMeta;
}): Promise<PublicPasskey> {
  await deps.limits.consume("secondFactorPerAccount", userId);
  const challenge = await takeChallenge(deps, response.response.clientDataJSON, "register", userId);
  const rp = relyingParty(deps);
  let info;
  try {
    const verification = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
    });
    info = verification.verified ? verification.registrationInfo : undefined;
  } catch {
    info = undefined;
  }
  if (!info) throw AppError.field("response", "The passkey could not be verified. Try again.");
  const { credential, credentialDeviceType, credentialBackedUp } = info;
  if (credential.id.length > 512) throw AppError.field("response", "This passkey's id is too long to keep.");

  const { user, row } = await deps.db.transaction(async (transaction) => {
    const { User, Passkey } = deps.db.models;
    const user = await User.findByPk(userId, { transaction, lock: transaction.LOCK.UPDATE });
    if (!user) throw new AppError("UNAUTHORIZED", "Sign in to continue.");
    if (user.passkeyCount >= PASSKEYS_PER_ACCOUNT_MAX) throw tooManyPasskeys();
    let row: PasskeyRow;
    try {
      row = await Passkey.create(
        {
          id: newId(),
          userId,
          credentialId: credential.id,
          publicKey: Buffer.from(credential.publicKey).toString("base64url"),
          counter: credential.counter,
          transports: JSON.stringify((credential.transports ?? []).filter((t) => TRANSPORTS.has(t))),
          deviceType: credentialDeviceType,
          backedUp: credentialBackedUp,
          name: name?.trim() || `Passkey ${user.passkeyCount + 1}`,
          createdAt: new Date(),
        },
        { transaction },
      );
    } catch (error) {
      if (error instanceof UniqueConstraintError) {
        throw new AppError("CONFLICT", "This passkey is registered already.", { reason: "passkey_exists" });
      }
      throw error;
    }
    await user.update({ passkeyCount: user.passkeyCount + 1 }, { transaction });
    await recordAudit({
      deps,
      action: "passkey_added",
      actorId: userId,
      target: user,
      ip: meta.ip,
      details: { passkeyId: row.id, name: row.name },
      transaction,
    });
    return { user, row };
  });
  await changed(deps, user, "passkey_added");
  return toPublicPasskey(row);
}

async function ownPasskey(deps: CoreDeps, userId: string, id: string): Promise<PasskeyRow> {
  const row = await deps.db.models.Passkey.findOne({ where: { id, userId } });
  if (!row) throw new AppError("NOT_FOUND", "Passkey not found.");
  return row;
}

export async function renamePasskey({
  deps,
  userId,
  id,
  name,
}: {
  deps: CoreDeps;
  userId: string;
  id: string;
  name: string;
}): Promise<PublicPasskey> {
  const row = await ownPasskey(deps, userId, id);
  await row.update({ name: name.trim() });
  return toPublicPasskey(row);
}

/** Removes a passkey: needs a fresh proof (see fresh-proof.ts); the owner is told by mail. */
export async function deletePasskey({
  deps,
  userId,
  id,
  proof,
  meta,
}: {
  deps: CoreDeps;
  userId: string;
  id: string;
  proof: Proof;
  meta: RequestMeta;
}): Promise<{ status: "deleted" }> {
  await ownPasskey(deps, userId, id);
  await requireFreshProof(deps, await ownUser(deps, userId), proof);
  const user = await deps.db.transaction(async (transaction) => {
    const { User, Passkey } = deps.db.models;
    const user = await User.findByPk(userId, { transaction, lock: transaction.LOCK.UPDATE });
    if (!user) throw new AppError("UNAUTHORIZED", "Sign in to continue.");
    const removed = await Passkey.destroy({ where: { id, userId }, transaction });
    if (removed === 0) throw new AppError("NOT_FOUND", "Passkey not found.");
    await user.update({ passkeyCount: Math.max(0, user.passkeyCount - 1) }, { transaction });
    await recordAudit({
      deps,
      action: "passkey_removed",
      actorId: userId,
      target: user,
      ip: meta.ip,
      details: { passkeyId: id },
      transaction,
    });
    return user;
  });
  await changed(deps, user, "passkey_removed");
  return { status: "deleted" };
}

/**
 * What the sign-in page passes to navigator.credentials.get: no account named, the browser offers
 * the passkeys it holds for this site. Counted with password sign-ins from the address.
 */
export async function passkeyLoginOptions({
  deps,
  meta,
}: {
  deps: CoreDeps;
  meta: RequestMeta;
}): Promise<PublicKeyCredentialRequestOptionsJSON> {
  await deps.limits.consume("loginPerIp", meta.ipKey);
  const options = await generateAuthenticationOptions({
    rpID: relyingParty(deps).id,
    userVerification: "required",
    timeout: CEREMONY_TTL_MS,
  });
  await keepChallenge(deps, options.challenge, "login", null);
  return options;
}

/** Signs in with a passkey: two factors in one, so no second step follows. */
export async function loginWithPasskey({
  deps,
  response,
  meta,
  previousSessionId,
  deviceToken,
}: {
  deps: CoreDeps;
  response: AuthenticationResponseJSON;
  meta: RequestMeta;
  previousSessionId?: string | null;
  deviceToken?: string | null;
}): Promise<SignedIn> {
  const reservation = await reserveAddressSignIn(deps.limits, meta);
  const challenge = await takeChallenge(deps, response.response.clientDataJSON, "login", null);
  const { Passkey, User } = deps.db.models;
  const passkey = await Passkey.findOne({ where: { credentialId: response.id } });
  if (!passkey) {
    throw new AppError("UNAUTHORIZED", "This passkey is not registered here.", { reason: "passkey_unknown" });
  }
  // The account the authenticator says the passkey is for must be the one it is registered to.
  const handle = response.response.userHandle;
  if (handle !== undefined && Buffer.from(handle, "base64url").toString("utf8") !== passkey.userId) throw notVerified();
  const rp = relyingParty(deps);
  let info;
  try {
    const verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: {
        id: passkey.credentialId,
        publicKey: new Uint8Array(Buffer.from(passkey.publicKey, "base64url")),
        counter: passkey.counter,
        transports: JSON.parse(passkey.transports) as string[],
      },
      requireUserVerification: true,
    });
    info = verification.verified ? verification.authenticationInfo : undefined;
  } catch {
    // A bad signature, or a counter that went backwards (a cloned authenticator).
    info = undefined;
  }
  if (!info) throw notVerified();
  const user = await User.findByPk(passkey.userId);
  if (!user) throw notVerified();
  await reservation.succeeded();
  await refuseUnusableAccount(deps, user, meta);
  await passkey.update({ counter: info.newCounter, backedUp: info.credentialBackedUp, lastUsedAt: new Date() });
  return startSession(deps, user, {
    meta,
    previousSessionId,
    deviceId: knownDeviceId(deps, deviceToken, user.id),
    details: { method: "passkey" },
  });
}
