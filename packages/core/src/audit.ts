// The audit log: who did what to whom, from where. Written inside the transaction of the action
// it records, so a failed action leaves no record and a recorded one happened.
import { newId, Op, type Transaction, type WhereOptions, type AuditEventRow } from "@notebox/db";
import type { CoreDeps } from "./deps";
import { decodeKeyCursor, encodeCursor, keysetAfter, type Page } from "./pagination";

export const AUDIT_ACTIONS = [
  "sign_in",
  "sign_in_failed",
  "password_reset",
  "password_changed",
  "role_changed",
  "user_disabled",
  "user_enabled",
  "user_deleted",
  "api_key_created",
  "api_key_revoked",
  "two_factor_enabled",
  "two_factor_disabled",
  "recovery_codes_regenerated",
  "passkey_added",
  "passkey_removed",
  "sso_linked",
  "sso_unlinked",
  "settings_changed",
  "quota_changed",
  "invite_created",
  "invite_revoked",
  "invite_accepted",
  "user_created",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export async function recordAudit({
  deps,
  action,
  actorId,
  target,
  ip,
  details,
  transaction,
}: {
  deps: Pick<CoreDeps, "db">;
  action: AuditAction;
  actorId: string | null;
  target?: { id: string | null; email: string | null };
  ip: string | null;
  details?: Record<string, unknown>;
  transaction?: Transaction;
}): Promise<void> {
  await deps.db.models.AuditEvent.create(
    {
      id: newId(),
      action,
      actorId,
      targetUserId: target?.id ?? null,
      targetEmail: target?.email ?? null,
      ip: ip?.slice(0, 45) ?? null,
      details: details ? JSON.stringify(details) : null,
      createdAt: new Date(),
    },
    { transaction },
  );
}

export interface AuditEntry {
  id: string;
  action: AuditAction;
  actorId: string | null;
  actorEmail: string | null;
  targetUserId: string | null;
  targetEmail: string | null;
  ip: string | null;
  details: Record<string, unknown> | null;
  createdAt: string;
}

/** Newest first, optionally one action and/or events where a user is the actor or the target. */
export async function listAudit({
  deps,
  cursor,
  limit = 50,
  action,
  userId,
}: {
  deps: CoreDeps;
  cursor?: string | null;
  limit?: number;
  action?: AuditAction;
  userId?: string;
}): Promise<Page<AuditEntry>> {
  const { AuditEvent, User } = deps.db.models;
  const conditions: WhereOptions<AuditEventRow>[] = [];
  if (action) conditions.push({ action });
  if (userId) conditions.push({ [Op.or]: [{ actorId: userId }, { targetUserId: userId }] });
  const after = decodeKeyCursor(cursor);
  if (after) conditions.push(keysetAfter("createdAt", new Date(after.v), after.id, true));
  const rows = await AuditEvent.findAll({
    where: { [Op.and]: conditions },
    order: [
      ["createdAt", "DESC"],
      ["id", "DESC"],
    ],
    limit: limit + 1,
  });
  const items = rows.slice(0, limit);
  const actorIds = [...new Set(items.map((r) => r.actorId).filter((id): id is string => id !== null))];
  const actors = new Map(
    (await User.findAll({ attributes: ["id", "email"], where: { id: actorIds } })).map((u) => [u.id, u.email]),
  );
  const last = items[items.length - 1];
  return {
    items: items.map((r) => ({
      id: r.id,
      action: r.action as AuditAction,
      actorId: r.actorId,
      actorEmail: r.actorId ? (actors.get(r.actorId) ?? null) : null,
      targetUserId: r.targetUserId,
      targetEmail: r.targetEmail,
      ip: r.ip,
      details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
      createdAt: r.createdAt.toISOString(),
    })),
    nextCursor: rows.length > limit && last ? encodeCursor({ v: last.createdAt.toISOString(), id: last.id }) : null,
  };
}
