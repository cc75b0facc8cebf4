// Sessions in the Lucia design: the client holds a random token, the database only its sha256;
// 30-day sliding expiry, renewed when under 15 days remain.
import {
  aliasedColumns,
  instanceFromRow,
  Op,
  selectBounded,
  type SessionRow,
  type Transaction,
  type UserRow,
} from "@notebox/db";
import { generateToken, hashToken } from "../crypto";
import type { CoreDeps, RequestMeta } from "../deps";
import { AppError } from "../errors";

const DAY = 24 * 60 * 60 * 1000;
export const SESSION_TTL_MS = 30 * DAY;
export const SESSION_RENEW_UNDER_MS = 15 * DAY;
/** lastUsedAt is a hint for the session list: refresh it at most this often to spare writes. */
const LAST_USED_RESOLUTION_MS = 5 * 60 * 1000;

export interface ValidSession {
  session: SessionRow;
  user: UserRow;
  /** The expiry moved: the cookie must be sent again with the new date. */
  renewed: boolean;
}

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

/** Whether a user may act at all: verified, not disabled, and the credential is not older than the user's cut-off. */
export function userAcceptsCredential(user: UserRow, issuedAt: Date): boolean {
  return (
    user.emailVerifiedAt !== null && user.disabledAt === null && issuedAt.getTime() >= user.tokensValidAfter.getTime()
  );
}

/** The session with its user in one round trip, one hand-written query (the hottest read of all). */
const sessionQueries = new WeakMap<object, string>();
function sessionWithUserSql(deps: CoreDeps): string {
  let sql = sessionQueries.get(deps.db.sequelize);
  if (!sql) {
    const { Session, User } = deps.db.models;
    sql = `SELECT ${aliasedColumns(deps.db, Session, "s", "s_")}, ${aliasedColumns(deps.db, User, "u", "u_")}
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`;
    sessionQueries.set(deps.db.sequelize, sql);
  }
  return sql;
}

async function readSessionWithUser(deps: CoreDeps, id: string): Promise<{ session: SessionRow; user: UserRow } | null> {
  const [row] = await selectBounded<Record<string, unknown>>(deps.db, sessionWithUserSql(deps), [id]);
  if (!row) return null;
  const session: Record<string, unknown> = {};
  const user: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key.startsWith("s_")) session[key.slice(2)] = value;
    else if (key.startsWith("u_")) user[key.slice(2)] = value;
  }
  return {
    session: instanceFromRow(deps.db.models.Session, session),
    user: instanceFromRow(deps.db.models.User, user),
  };
}

export async function validateSessionToken({
  deps,
  token,
}: {
  deps: CoreDeps;
  token: string;
}): Promise<ValidSession | null> {
  if (!/^[a-z2-7]{32}$/.test(token)) return null;
  const { Session, User } = deps.db.models;
  const id = hashToken(token);
  let session: SessionRow | null;
  let user: UserRow;
  let fromCache = false;
  const cached = await deps.cache.readSession(id);
  if (cached) {
    const values = JSON.parse(cached) as { session: Record<string, unknown>; user: Record<string, unknown> };
    session = instanceFromRow(Session, values.session);
    user = instanceFromRow(User, values.user);
    fromCache = true;
  } else {
    const found = await readSessionWithUser(deps, id);
    if (!found) return null;
    ({ session, user } = found);
  }
  const now = Date.now();
  if (session.expiresAt.getTime() <= now) {
    await session.destroy();
    await deps.cache.forgetSessions([id]);
    return null;
  }
  if (!userAcceptsCredential(user, session.createdAt)) {
    if (fromCache) return validateUncached(deps, id);
    if (user.disabledAt === null && user.emailVerifiedAt !== null) await session.destroy();
    return null;
  }
  const renewed = session.expiresAt.getTime() - now < SESSION_RENEW_UNDER_MS;
  const stale = now - session.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS;
  if (renewed || stale || !fromCache) {
    if (renewed || stale) {
      const changes: Partial<SessionRow> = { lastUsedAt: new Date(now) };
      if (renewed) changes.expiresAt = new Date(now + SESSION_TTL_MS);
      await session.update(changes);
    }
    await deps.cache.storeSession(id, user.id, () =>
      JSON.stringify({ session: session.get({ plain: true }), user: user.get({ plain: true }) }),
    );
  }
  return { session, user, renewed };
}

/** A cached entry said no: ask the database, which has the last word. */
async function validateUncached(deps: CoreDeps, id: string): Promise<ValidSession | null> {
  await deps.cache.forgetSessions([id]);
  const session = await deps.db.models.Session.findByPk(id);
  if (!session) return null;
  const user = await deps.db.models.User.findByPk(session.userId);
  if (!user || !userAcceptsCredential(user, session.createdAt) || session.expiresAt.getTime() <= Date.now())
    return null;
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
