// Sessions in the Lucia design: the client holds a random token, the database only its sha256;
// 30-day sliding expiry, renewed when under 15 days remain.
import {
  Op,
  rowDate,
  rowDateOrNull,
  runStatement,
  selectBounded,
  type Role,
  type SessionRow,
  type Transaction,
} from "@notebox/db";
import { generateToken, hashToken } from "../crypto";
import type { CoreDeps, RequestMeta } from "../deps";
import { AppError } from "../errors";

const DAY = 24 * 60 * 60 * 1000;
export const SESSION_TTL_MS = 30 * DAY;
export const SESSION_RENEW_UNDER_MS = 15 * DAY;
/** lastUsedAt is a hint for the session list: refresh it at most this often to spare writes. */
const LAST_USED_RESOLUTION_MS = 5 * 60 * 1000;

export async function createSession({
  deps,
  userId,
  meta,
  transaction,
}: {
  deps: CoreDeps;
  userId: string;
  meta: RequestMeta;
  transaction?: Transaction;
}): Promise<{ token: string; session: SessionRow }> {
  const token = generateToken();
  const now = new Date();
  const session = await deps.db.models.Session.create(
    {
      id: hashToken(token),
      userId,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: new Date(now.getTime() + SESSION_TTL_MS),
      ip: meta.ip.slice(0, 45) || null,
      userAgent: meta.userAgent?.slice(0, 512) ?? null,
    },
    { transaction },
  );
  return { token, session };
}

/**
 * The account of a signed-in caller, as plain values: what the credential checks, the procedures
 * and the API's answers read of it. A session check builds it from one row; a JWT or an API key
 * check passes the account's model instance, which has every one of these.
 */
export interface CallerUser {
  id: string;
  username: string;
  email: string;
  role: Role;
  emailVerifiedAt: Date | null;
  disabledAt: Date | null;
  tokensValidAfter: Date;
  mustChangePassword: boolean;
  totpEnabledAt: Date | null;
  passkeyCount: number;
  hasPassword: boolean;
  createdAt: Date;
}

/** A session as its check reads it. */
export interface CallerSession {
  id: string;
  userId: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
}

export interface ValidSession {
  session: CallerSession;
  user: CallerUser;
  /** The expiry moved: the cookie must be sent again with the new date. */
  renewed: boolean;
}

/** Whether a user may act at all: verified, not disabled, and the credential is not older than the user's cut-off. */
export function userAcceptsCredential(user: CallerUser, issuedAt: Date): boolean {
  return (
    user.emailVerifiedAt !== null && user.disabledAt === null && issuedAt.getTime() >= user.tokensValidAfter.getTime()
  );
}

/**
 * The session with its user in one round trip, one hand-written query (the hottest read of all),
 * naming only the columns of CallerSession and CallerUser. A cached validation keeps the same row
 * (as JSON), so both are read back by `validatedFromRow`.
 */
const SESSION_WITH_USER_SQL = `SELECT s.user_id, s.created_at AS session_created_at, s.last_used_at, s.expires_at,
    u.username, u.email, u.role, u.email_verified_at, u.disabled_at, u.tokens_valid_after,
    u.must_change_password, u.totp_enabled_at, u.passkey_count, u.has_password, u.created_at
  FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`;

interface SessionWithUserRow {
  user_id: string;
  session_created_at: Date | string;
  last_used_at: Date | string;
  expires_at: Date | string;
  username: string;
  email: string;
  role: Role;
  email_verified_at: Date | string | null;
  disabled_at: Date | string | null;
  tokens_valid_after: Date | string;
  must_change_password: number | boolean;
  totp_enabled_at: Date | string | null;
  passkey_count: number;
  has_password: number | boolean;
  created_at: Date | string;
}

/** A row of SESSION_WITH_USER_SQL, from the database or from its JSON in the cache (dates as ISO text). */
function validatedFromRow(id: string, row: SessionWithUserRow): { session: CallerSession; user: CallerUser } {
  return {
    session: {
      id,
      userId: row.user_id,
      createdAt: rowDate(row.session_created_at),
      lastUsedAt: rowDate(row.last_used_at),
      expiresAt: rowDate(row.expires_at),
    },
    user: {
      id: row.user_id,
      username: row.username,
      email: row.email,
      role: row.role,
      emailVerifiedAt: rowDateOrNull(row.email_verified_at),
      disabledAt: rowDateOrNull(row.disabled_at),
      tokensValidAfter: rowDate(row.tokens_valid_after),
      mustChangePassword: Boolean(Number(row.must_change_password)),
      totpEnabledAt: rowDateOrNull(row.totp_enabled_at),
      passkeyCount: Number(row.passkey_count),
      hasPassword: Boolean(Number(row.has_password)),
      createdAt: rowDate(row.created_at),
    },
  };
}

async function readSessionWithUser(deps: CoreDeps, id: string): Promise<SessionWithUserRow | null> {
  const [row] = await selectBounded<SessionWithUserRow>(deps.db, SESSION_WITH_USER_SQL, [id]);
  return row ?? null;
}

const deleteSession = (deps: CoreDeps, id: string) => runStatement(deps.db, "DELETE FROM sessions WHERE id = ?", [id]);

export async function validateSessionToken({
  deps,
  token,
}: {
  deps: CoreDeps;
  token: string;
}): Promise<ValidSession | null> {
  if (!/^[a-z2-7]{32}$/.test(token)) return null;
  const id = hashToken(token);
  let row: SessionWithUserRow | null;
  const cached = await deps.cache.readSession(id);
  const fromCache = cached !== null;
  if (cached !== null) row = JSON.parse(cached) as SessionWithUserRow;
  else {
    row = await readSessionWithUser(deps, id);
    if (!row) return null;
  }
  const { session, user } = validatedFromRow(id, row);
  const now = Date.now();
  if (session.expiresAt.getTime() <= now) {
    await deleteSession(deps, id);
    await deps.cache.forgetSessions([id]);
    return null;
  }
  if (!userAcceptsCredential(user, session.createdAt)) {
    if (fromCache) return validateUncached(deps, id);
    if (user.disabledAt === null && user.emailVerifiedAt !== null) await deleteSession(deps, id);
    return null;
  }
  const renewed = session.expiresAt.getTime() - now < SESSION_RENEW_UNDER_MS;
  const stale = now - session.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS;
  if (renewed || stale || !fromCache) {
    if (renewed || stale) {
      session.lastUsedAt = new Date(now);
      if (renewed) session.expiresAt = new Date(now + SESSION_TTL_MS);
      await runStatement(deps.db, "UPDATE sessions SET last_used_at = ?, expires_at = ? WHERE id = ?", [
        session.lastUsedAt,
        session.expiresAt,
        id,
      ]);
      row.last_used_at = session.lastUsedAt;
      row.expires_at = session.expiresAt;
    }
    const stored = row;
    await deps.cache.storeSession(id, user.id, () => JSON.stringify(stored));
  }
  return { session, user, renewed };
}

/** A cached entry said no: ask the database, which has the last word. */
async function validateUncached(deps: CoreDeps, id: string): Promise<ValidSession | null> {
  await deps.cache.forgetSessions([id]);
  const row = await readSessionWithUser(deps, id);
  if (!row) return null;
  const { session, user } = validatedFromRow(id, row);
  if (!userAcceptsCredential(user, session.createdAt) || session.expiresAt.getTime() <= Date.now()) return null;
  return { session, user, renewed: false };
}

export async function invalidateSession({ deps, sessionId }: { deps: CoreDeps; sessionId: string }) {
  await deps.db.models.Session.destroy({ where: { id: sessionId } });
  await deps.cache.forgetSessions([sessionId]);
}

/**
 * Ends the user's sessions (all, or all but one), and drops every cached validation of them:
 * the user row changed too (password, cut-off), so even the session kept must be read afresh.
 */
export async function invalidateUserSessions({
  deps,
  userId,
  exceptSessionId,
  transaction,
}: {
  deps: CoreDeps;
  userId: string;
  exceptSessionId?: string;
  transaction?: Transaction;
}): Promise<number> {
  await deps.cache.forgetUser(userId);
  return deps.db.models.Session.destroy({
    where: exceptSessionId ? { userId, id: { [Op.ne]: exceptSessionId } } : { userId },
    transaction,
  });
}

export interface SessionSummary {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
  current: boolean;
}

export async function listSessions({
  deps,
  userId,
  currentSessionId,
}: {
  deps: CoreDeps;
  userId: string;
  currentSessionId: string | null;
}): Promise<SessionSummary[]> {
  const rows = await deps.db.models.Session.findAll({
    where: { userId, expiresAt: { [Op.gt]: new Date() } },
    order: [["lastUsedAt", "DESC"]],
    limit: 200,
  });
  return rows.map((s) => ({
    id: s.id,
    createdAt: s.createdAt.toISOString(),
    lastUsedAt: s.lastUsedAt.toISOString(),
    expiresAt: s.expiresAt.toISOString(),
    ip: s.ip,
    userAgent: s.userAgent,
    current: s.id === currentSessionId,
  }));
}

export async function revokeSession({
  deps,
  userId,
  sessionId,
}: {
  deps: CoreDeps;
  userId: string;
  sessionId: string;
}): Promise<void> {
  const removed = await deps.db.models.Session.destroy({ where: { id: sessionId, userId } });
  if (removed === 0) throw new AppError("NOT_FOUND", "No such session.");
  await deps.cache.forgetSessions([sessionId]);
}
