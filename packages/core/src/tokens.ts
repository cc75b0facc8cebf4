// Access for other services: API keys (long-lived, shown once, stored hashed) exchanged for
// short-lived JWTs (HS256 pinned, 15 minutes, iss/aud checked) sent as `Authorization: Bearer`.
import { newId, Op, type ApiKeyRow, type Transaction, type UserRow } from "@notebox/db";
import { encodeBase32LowerCaseNoPadding } from "@oslojs/encoding";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { createHmac } from "node:crypto";
import { recordAudit } from "./audit";
import { hashToken } from "./crypto";
import type { CoreDeps, RequestMeta } from "./deps";
import { AppError } from "./errors";
import { userAcceptsCredential } from "./sessions/sessions";

export const JWT_TTL_SECONDS = 15 * 60;
export const JWT_ISSUER = "notebox";
export const JWT_AUDIENCE = "notebox-api";
/** Every API key starts with this, so a bearer credential is told apart from a JWT. */
export const API_KEY_PREFIX = "nbk_";
const MAX_KEYS_PER_USER = 50;
const LAST_USED_RESOLUTION_MS = 60_000;
/** How far ahead of this server's clock a token's issue time may be, for clocks that drift apart. */
const MAX_CLOCK_SKEW_MS = 60_000;

/** The JWT key is derived from the server secret, so no other use of that secret can forge one. */
function signingKey(deps: Pick<CoreDeps, "config">): Uint8Array {
  return createHmac("sha256", deps.config.jwtSecret).update("notebox jwt v1").digest();
}

export interface ApiKeySummary {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

const toSummary = (key: ApiKeyRow): ApiKeySummary => ({
  id: key.id,
  name: key.name,
  prefix: key.prefix,
  createdAt: key.createdAt.toISOString(),
  expiresAt: key.expiresAt?.toISOString() ?? null,
  lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
});

export async function createApiKey({
  deps,
  userId,
  name,
  expiresAt,
  meta,
}: {
  deps: CoreDeps;
  userId: string;
  name: string;
  expiresAt?: Date | null;
  meta: RequestMeta;
}): Promise<{ key: string; apiKey: ApiKeySummary }> {
  const { ApiKey, User } = deps.db.models;
  if (expiresAt && expiresAt.getTime() <= Date.now()) throw AppError.field("expiresAt", "Choose a date in the future.");
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  const key = `${API_KEY_PREFIX}${encodeBase32LowerCaseNoPadding(bytes)}`;
  const row = await deps.db.transaction(async (transaction) => {
    const user = await User.findByPk(userId, { lock: transaction.LOCK.UPDATE, transaction });
    if (!user) throw new AppError("UNAUTHORIZED", "Sign in again.");
    const live = await ApiKey.count({ where: { userId, revokedAt: null }, transaction });
    if (live >= MAX_KEYS_PER_USER)
      throw AppError.field("name", `You can have at most ${MAX_KEYS_PER_USER} keys. Revoke one first.`);
    const created = await ApiKey.create(
      {
        id: newId(),
        userId,
        name,
        prefix: key.slice(0, 12),
        keyHash: hashToken(key),
        createdAt: new Date(),
        expiresAt: expiresAt ?? null,
      },
      { transaction },
    );
    await recordAudit({
      deps,
      action: "api_key_created",
      actorId: userId,
      target: user,
      ip: meta.ip,
      details: { keyId: created.id, name },
      transaction,
    });
    return created;
  });
  return { key, apiKey: toSummary(row) };
}

export async function listApiKeys({ deps, userId }: { deps: CoreDeps; userId: string }): Promise<ApiKeySummary[]> {
  const rows = await deps.db.models.ApiKey.findAll({
    where: { userId, revokedAt: null },
    order: [["createdAt", "DESC"]],
  });
  return rows.map(toSummary);
}

export async function revokeApiKey({
  deps,
  userId,
  id,
  meta,
}: {
  deps: CoreDeps;
  userId: string;
  id: string;
  meta: RequestMeta;
}) {
  await deps.db.transaction(async (transaction) => {
    const key = await deps.db.models.ApiKey.findOne({
      where: { id, userId, revokedAt: null },
      lock: transaction.LOCK.UPDATE,
      transaction,
    });
    if (!key) throw new AppError("NOT_FOUND", "No such key.");
    await key.update({ revokedAt: new Date() }, { transaction });
    const user = await deps.db.models.User.findByPk(userId, { transaction });
    await recordAudit({
      deps,
      action: "api_key_revoked",
      actorId: userId,
      target: user ?? undefined,
      ip: meta.ip,
      details: { keyId: id },
      transaction,
    });
  });
}

/** What a person is told about a key that was revoked for them: enough to recognise it, never the key. */
export type RevokedApiKey = Pick<ApiKeySummary, "id" | "name" | "prefix">;

/**
 * Revokes every live key of the user, inside the caller's transaction: a new password (changed or
 * reset) must also shut out any key planted with the old one. Each key is audited with why it went.
 */
export async function revokeUserApiKeys({
  deps,
  user,
  actorId,
  reason,
  meta,
  transaction,
}: {
  deps: CoreDeps;
  user: UserRow;
  actorId: string | null;
  reason: "password_changed" | "password_reset";
  meta: RequestMeta;
  transaction: Transaction;
}): Promise<RevokedApiKey[]> {
  const { ApiKey } = deps.db.models;
  // Locked, so a key created while this runs is either revoked here or created after the change.
  const keys = await ApiKey.findAll({
    where: { userId: user.id, revokedAt: null },
    order: [["createdAt", "DESC"]],
    lock: transaction.LOCK.UPDATE,
    transaction,
  });
  if (keys.length === 0) return [];
  await ApiKey.update({ revokedAt: new Date() }, { where: { id: keys.map((key) => key.id) }, transaction });
  for (const key of keys) {
    await recordAudit({
      deps,
      action: "api_key_revoked",
      actorId,
      target: user,
      ip: meta.ip,
      details: { keyId: key.id, name: key.name, reason },
      transaction,
    });
  }
  return keys.map(({ id, name, prefix }) => ({ id, name, prefix }));
}

/** The key's row and user when the key is live and its user may act; null otherwise. */
export async function validateApiKey({
  deps,
  key,
}: {
  deps: CoreDeps;
  key: string;
}): Promise<{ apiKey: ApiKeyRow; user: UserRow } | null> {
  if (!key.startsWith(API_KEY_PREFIX) || key.length > 100) return null;
  const apiKey = await deps.db.models.ApiKey.findOne({
    where: {
      keyHash: hashToken(key),
      revokedAt: null,
      [Op.or]: [{ expiresAt: null }, { expiresAt: { [Op.gt]: new Date() } }],
    },
  });
  if (!apiKey) return null;
  const user = await deps.db.models.User.findByPk(apiKey.userId);
  if (!user || user.disabledAt || !user.emailVerifiedAt) return null;
  if (!apiKey.lastUsedAt || Date.now() - apiKey.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await apiKey.update({ lastUsedAt: new Date() });
  }
  return { apiKey, user };
}

/** A JWT for the caller's session or API key. */
export async function issueToken({
  deps,
  user,
  source,
}: {
  deps: CoreDeps;
  user: { id: string };
  source: { sessionId: string } | { apiKeyId: string };
}): Promise<{ token: string; expiresAt: string }> {
  const now = Date.now();
  const expiresAt = Math.floor(now / 1000) + JWT_TTL_SECONDS;
  const token = await new SignJWT({
    // Milliseconds, compared with the user's tokens-valid-after instant (iat has only seconds).
    iat_ms: now,
    ...("sessionId" in source ? { sid: source.sessionId } : { kid: source.apiKeyId }),
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(user.id)
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(expiresAt)
    .setJti(newId())
    .sign(signingKey(deps));
  return { token, expiresAt: new Date(expiresAt * 1000).toISOString() };
}

/**
 * Verifies a bearer JWT and that what it was issued from still stands: the token was not issued
 * in the future, the user may act and the token is newer than the user's cut-off, and its session
 * (the user's own, unexpired) or API key is still live.
 */
export async function verifyBearerToken({ deps, token }: { deps: CoreDeps; token: string }): Promise<UserRow | null> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, signingKey(deps), {
      algorithms: ["HS256"],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      requiredClaims: ["sub", "exp", "iat"],
    }));
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) return null;
    throw error;
  }
  const issuedAtMs = typeof payload.iat_ms === "number" ? payload.iat_ms : payload.iat! * 1000;
  // Dated ahead, a token would outlive its 15 minutes (iat) or the user's next cut-off (iat_ms).
  if (Math.max(issuedAtMs, payload.iat! * 1000) > Date.now() + MAX_CLOCK_SKEW_MS) return null;
  if (payload.exp! - payload.iat! > JWT_TTL_SECONDS) return null;
  const user = await deps.db.models.User.findByPk(payload.sub);
  if (!user || !userAcceptsCredential(user, new Date(issuedAtMs))) return null;
  if (typeof payload.sid === "string") {
    const session = await deps.db.models.Session.findOne({
      where: { id: payload.sid, userId: user.id, expiresAt: { [Op.gt]: new Date() } },
    });
    if (!session) return null;
  } else if (typeof payload.kid === "string") {
    const key = await deps.db.models.ApiKey.findOne({ where: { id: payload.kid, userId: user.id, revokedAt: null } });
    if (!key || (key.expiresAt && key.expiresAt.getTime() <= Date.now())) return null;
  } else {
    return null;
  }
  return user;
}
