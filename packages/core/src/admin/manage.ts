// What an administrator does to accounts. Each action takes effect at once (the user's
// tokens-valid-after moves and their sessions end), is refused when it would leave no active
// administrator or turn an administrator against themself, and is audited in its transaction.
import { Op, type Role, type Transaction, type UserRow } from "@notebox/db";
import { recordAudit } from "../audit";
import type { CoreDeps, RequestMeta } from "../deps";
import { AppError } from "../errors";
import { invalidateUserSessions } from "../sessions/sessions";
import { usedBytes } from "../files/usage";
import { finishAccountDeletion } from "./delete-account";
import { quotaOf } from "./settings";
import { toAdminSummary, type AdminUserSummary } from "./users";

const userNotFound = () => new AppError("NOT_FOUND", "No such user.");

/**
 * Locks every administrator row (in id order), then the target: two admins acting on each other
 * at once then queue instead of deadlocking on opposite lock orders.
 */
async function lockedUser(deps: CoreDeps, id: string, transaction: Transaction): Promise<UserRow> {
  await deps.db.models.User.findAll({
    attributes: ["id"],
    where: { role: "admin" },
    order: [["id", "ASC"]],
    lock: transaction.LOCK.UPDATE,
    transaction,
  });
  const user = await deps.db.models.User.findByPk(id, { lock: transaction.LOCK.UPDATE, transaction });
  if (!user || user.deletionStartedAt) throw userNotFound();
  return user;
}

/** Refuses when `target` is the last administrator who can still sign in. */
async function assertNotLastAdmin(deps: CoreDeps, target: UserRow, transaction: Transaction) {
  if (target.role !== "admin" || target.disabledAt) return;
  const others = await deps.db.models.User.count({
    where: { role: "admin", disabledAt: null, id: { [Op.ne]: target.id } },
    transaction,
  });
  if (others === 0)
    throw new AppError("CONFLICT", "This is the last administrator. Make someone else an administrator first.", {
      reason: "last_admin",
    });
}

function refuseSelf(actorId: string, targetId: string, what: string) {
  if (actorId === targetId) throw new AppError("FORBIDDEN", `You cannot ${what} your own account.`, { reason: "self" });
}

/** Ends every session of the user and moves their cut-off, so JWTs issued before now die too. */
async function cutOff(deps: CoreDeps, user: UserRow, transaction: Transaction) {
  await user.update({ tokensValidAfter: new Date() }, { transaction });
  await invalidateUserSessions({ deps, userId: user.id, transaction });
}

export interface AdminUserDetail extends AdminUserSummary {
  /** The account's own quota; null: the default applies. */
  quotaBytes: number | null;
  /** The quota that applies to it. */
  effectiveQuotaBytes: number;
  notes: number;
  files: number;
  usedBytes: number;
  sessions: number;
  apiKeys: number;
}

export async function getUserDetail({ deps, id }: { deps: CoreDeps; id: string }): Promise<AdminUserDetail> {
  const { User, Note, File, Session, ApiKey } = deps.db.models;
  const user = await User.findByPk(id);
  if (!user || user.deletionStartedAt) throw userNotFound();
  const [notes, files, bytes, sessions, apiKeys, effectiveQuotaBytes] = await Promise.all([
    Note.count({ where: { ownerId: id } }),
    File.count({ where: { ownerId: id } }),
    usedBytes(deps, id),
    Session.count({ where: { userId: id, expiresAt: { [Op.gt]: new Date() } } }),
    ApiKey.count({ where: { userId: id, revokedAt: null } }),
    quotaOf(deps, id),
  ]);
  return {
    ...toAdminSummary(user),
    quotaBytes: user.quotaBytes,
    effectiveQuotaBytes,
    notes,
    files,
    usedBytes: bytes,
    sessions,
    apiKeys,
  };
}

export async function setUserRole({
  deps,
  actorId,
  id,
  role,
  meta,
}: {
  deps: CoreDeps;
  actorId: string;
  id: string;
  role: Role;
  meta: RequestMeta;
}): Promise<AdminUserSummary> {
  return deps.db.transaction(async (transaction) => {
    const user = await lockedUser(deps, id, transaction);
    if (user.role === role) return toAdminSummary(user);
    if (role !== "admin") {
      refuseSelf(actorId, id, "demote");
      await assertNotLastAdmin(deps, user, transaction);
    }
    const from = user.role;
    await user.update({ role }, { transaction });
    await cutOff(deps, user, transaction);
    await recordAudit({
      deps,
      action: "role_changed",
      actorId,
      target: user,
      ip: meta.ip,
      details: { from, to: role },
      transaction,
    });
    return toAdminSummary(user);
  });
}

export async function setUserDisabled({
  deps,
  actorId,
  id,
  disabled,
  meta,
}: {
  deps: CoreDeps;
  actorId: string;
  id: string;
  disabled: boolean;
  meta: RequestMeta;
}): Promise<AdminUserSummary> {
  return deps.db.transaction(async (transaction) => {
    const user = await lockedUser(deps, id, transaction);
    if ((user.disabledAt !== null) === disabled) return toAdminSummary(user);
    if (disabled) {
      refuseSelf(actorId, id, "disable");
      await assertNotLastAdmin(deps, user, transaction);
    }
    await user.update({ disabledAt: disabled ? new Date() : null }, { transaction });
    await cutOff(deps, user, transaction);
    await recordAudit({
      deps,
      action: disabled ? "user_disabled" : "user_enabled",
      actorId,
      target: user,
      ip: meta.ip,
      transaction,
    });
    return toAdminSummary(user);
  });
}

/**
 * Deletes the account and everything it owns in one transaction (rows go by foreign-key
 * cascade), then the stored bytes; bytes that cannot be removed now are left to the sweeper,
 * which removes objects no row points to.
 */
export async function deleteUser({
  deps,
  actorId,
  id,
  meta,
}: {
  deps: CoreDeps;
  actorId: string;
  id: string;
  meta: RequestMeta;
}): Promise<{ status: "deleted"; files: number }> {
  refuseSelf(actorId, id, "delete");
  const { EmailCode, File, ApiKey, PasswordResetToken } = deps.db.models;
  // At once: the account is hidden, cannot sign in, and every session, key, token and code is
  // gone. Its notes and files follow in the background, in batches (see delete-account.ts).
  const files = await deps.db.transaction(async (transaction) => {
    const user = await lockedUser(deps, id, transaction);
    await assertNotLastAdmin(deps, user, transaction);
    const count = await File.count({ where: { ownerId: id }, transaction });
    await EmailCode.destroy({ where: { email: user.email }, transaction });
    await ApiKey.destroy({ where: { userId: id }, transaction });
    await PasswordResetToken.destroy({ where: { userId: id }, transaction });
    const now = new Date();
    await user.update({ deletionStartedAt: now, disabledAt: user.disabledAt ?? now }, { transaction });
    await cutOff(deps, user, transaction);
    await recordAudit({
      deps,
      action: "user_deleted",
      actorId,
      target: user,
      ip: meta.ip,
      details: { username: user.username, files: count },
      transaction,
    });
    return count;
  });
  void finishAccountDeletion({ deps, userId: id }).catch((error: unknown) =>
    deps.logger.warn({ err: error, userId: id }, "account deletion paused; the sweeper finishes it"),
  );
  return { status: "deleted", files };
}
