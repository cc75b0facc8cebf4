// Sessions in the Lucia design: the client holds a random token, the database only its sha256;
// 30-day sliding expiry, renewed when under 15 days remain.
import { Op, type SessionRow, type Transaction, type UserRow } from "@notebox/db";
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
    user.emailVerifiedAt !== null &&
    user.disabledAt === null &&
    issuedAt.getTime() >= user.tokensValidAfter.getTime()
  );
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
  // One round trip on the hot path: the session with its user.
  const session = await Session.findByPk(hashToken(token), { include: [{ model: User, required: true }] });
  if (!session) return null;
  const user = (session as SessionRow & { User: UserRow }).User;
  const now = Date.now();
  if (session.expiresAt.getTime() <= now) {
    await session.destroy();
    return null;
  }
  if (!userAcceptsCredential(user, session.createdAt)) {
    if (user.disabledAt === null && user.emailVerifiedAt !== null) await session.destroy();
    return null;
  }
  const renewed = session.expiresAt.getTime() - now < SESSION_RENEW_UNDER_MS;
  if (renewed || now - session.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    const changes: Partial<SessionRow> = { lastUsedAt: new Date(now) };
    if (renewed) changes.expiresAt = new Date(now + SESSION_TTL_MS);
    await session.update(changes);
  }
  return { session, user, renewed };
}

export async function invalidateSession({ deps, sessionId }: { deps: CoreDeps; sessionId: string }) {
  await deps.db.models.Session.destroy({ where: { id: sessionId } });
}

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
}
