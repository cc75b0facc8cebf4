import { literal, Op, type UserRow, type WhereOptions } from "@notebox/db";
import type { CoreDeps } from "../deps";
import { decodeKeyCursor, encodeCursor, keysetAfter, likeContains, type Page } from "../pagination";
import { toPublicUser, usernameKey, type PublicUser } from "../users";

export interface AdminUserSummary extends PublicUser {
  verified: boolean;
  disabled: boolean;
  lastLoginAt: string | null;
}

export function toAdminSummary(user: UserRow): AdminUserSummary {
  return {
    ...toPublicUser(user),
    verified: user.emailVerifiedAt !== null,
    disabled: user.disabledAt !== null,
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
  };
}

export interface AdminUserListItem extends AdminUserSummary {
  notes: number;
  files: number;
  usedBytes: number;
}

export type UserSort = "created" | "email";

/** Accounts newest first (or by email), filtered by part of an email address or username. */
export async function listUsers({
  deps,
  q,
  cursor,
  limit = 50,
  sort = "created",
}: {
  deps: CoreDeps;
  q?: string;
  cursor?: string | null;
  limit?: number;
  sort?: UserSort;
}): Promise<Page<AdminUserListItem>> {
  const after = decodeKeyCursor(cursor);
  const conditions: WhereOptions<UserRow>[] = [{ deletionStartedAt: null }];
  const term = q?.trim();
  const { sequelize } = deps.db;
  if (term) {
    // A name is found by its key, so `QUOKKA` and a look-alike spelling find the same account.
    conditions.push({
      [Op.or]: [
        likeContains(sequelize, "email", term.toLowerCase()),
        likeContains(sequelize, "username_key", usernameKey(term)),
      ],
    });
  }
  const column = sort === "email" ? "email" : "createdAt";
  const desc = sort !== "email";
  if (after) conditions.push(keysetAfter(column, column === "email" ? after.v : new Date(after.v), after.id, desc));
  // Per-user counts as correlated subqueries: one query for the page, no N+1.
  const counted = (sql: string) => literal(`(${sql.replace("$ID", "`User`.`id`")})`);
  const rows = await deps.db.models.User.findAll({
    attributes: {
      include: [
        [counted("SELECT COUNT(*) FROM notes WHERE notes.owner_id = $ID"), "noteCount"],
        [counted("SELECT COUNT(*) FROM files WHERE files.owner_id = $ID"), "fileCount"],
        [counted("SELECT COALESCE(SUM(size), 0) FROM files WHERE files.owner_id = $ID"), "byteCount"],
      ],
    },
    where: { [Op.and]: conditions },
    order: [
      [column, desc ? "DESC" : "ASC"],
      ["id", desc ? "DESC" : "ASC"],
    ],
    limit: limit + 1,
  });
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map((user) => ({
      ...toAdminSummary(user),
      notes: Number(user.get("noteCount")),
      files: Number(user.get("fileCount")),
      usedBytes: Number(user.get("byteCount")),
    })),
    nextCursor:
      rows.length > limit && last
        ? encodeCursor({ v: column === "email" ? last.email : last.createdAt.toISOString(), id: last.id })
        : null,
  };
}

export async function adminStats({ deps }: { deps: CoreDeps }) {
  const { User, Note, File } = deps.db.models;
  const since = new Date(Date.now() - 29 * 24 * 60 * 60 * 1000);
  since.setUTCHours(0, 0, 0, 0);
  const [users, verifiedUsers, admins, disabledUsers, notes, files, bytes, recent] = await Promise.all([
    User.count({ where: { deletionStartedAt: null } }),
    User.count({ where: { deletionStartedAt: null, emailVerifiedAt: { [Op.ne]: null } } }),
    User.count({ where: { deletionStartedAt: null, role: "admin" } }),
    User.count({ where: { deletionStartedAt: null, disabledAt: { [Op.ne]: null } } }),
    Note.count(),
    File.count(),
    File.sum("size"),
    User.findAll({ attributes: ["createdAt"], where: { deletionStartedAt: null, createdAt: { [Op.gte]: since } } }),
  ]);
  // Sign-ups per UTC day for the last 30 days, zeros included, oldest first.
  const perDay = new Map<string, number>();
  for (let d = new Date(since); d.getTime() <= Date.now(); d.setUTCDate(d.getUTCDate() + 1)) {
    perDay.set(d.toISOString().slice(0, 10), 0);
  }
  for (const u of recent) {
    const day = u.createdAt.toISOString().slice(0, 10);
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
  }
  return {
    users,
    verifiedUsers,
    admins,
    disabledUsers,
    notes,
    files,
    bytesStored: Number(bytes ?? 0),
    signupsPerDay: [...perDay].map(([day, count]) => ({ day, count })),
  };
}
