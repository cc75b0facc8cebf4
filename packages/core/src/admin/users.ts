import { Op, type UserRow, type WhereOptions } from "@notebox/db";
import type { CoreDeps } from "../deps";
import { decodeCursor, encodeCursor, likeContains, type Page } from "../pagination";
import { toPublicUser, type PublicUser } from "../users";

export interface AdminUserSummary extends PublicUser {
  verified: boolean;
  disabled: boolean;
  lastLoginAt: string | null;
}

type UserCursor = { t: string; id: string };
const isUserCursor = (v: unknown): v is UserCursor =>
  typeof v === "object" && v !== null && typeof (v as UserCursor).t === "string" && typeof (v as UserCursor).id === "string";

export function toAdminSummary(user: UserRow): AdminUserSummary {
  return {
    ...toPublicUser(user),
    verified: user.emailVerifiedAt !== null,
    disabled: user.disabledAt !== null,
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
  };
}

/** Newest accounts first, filtered by the start of an email address or username. */
export async function listUsers({
  deps,
  q,
  cursor,
  limit = 50,
}: {
  deps: CoreDeps;
  q?: string;
  cursor?: string | null;
  limit?: number;
}): Promise<Page<AdminUserSummary>> {
  const after = decodeCursor(cursor, isUserCursor);
  const conditions: WhereOptions<UserRow>[] = [];
  const term = q?.trim().toLowerCase();
  if (term) {
    const { sequelize } = deps.db;
    conditions.push({
      [Op.or]: [likeContains(sequelize, "email", term), likeContains(sequelize, "username_key", term)],
    });
  }
  if (after) {
    const t = new Date(after.t);
    conditions.push({ [Op.or]: [{ createdAt: { [Op.lt]: t } }, { createdAt: t, id: { [Op.lt]: after.id } }] });
  }
  const rows = await deps.db.models.User.findAll({
    where: { [Op.and]: conditions },
    order: [["createdAt", "DESC"], ["id", "DESC"]],
    limit: limit + 1,
  });
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(toAdminSummary),
    nextCursor: rows.length > limit && last ? encodeCursor({ t: last.createdAt.toISOString(), id: last.id }) : null,
  };
}

export async function adminStats({ deps }: { deps: CoreDeps }) {
  const { User, Note } = deps.db.models;
  const [users, verifiedUsers, admins, notes] = await Promise.all([
    User.count(),
    User.count({ where: { emailVerifiedAt: { [Op.ne]: null } } }),
    User.count({ where: { role: "admin" } }),
    Note.count(),
  ]);
  return { users, verifiedUsers, admins, notes };
}
