// Periodic clean-up of rows that can no longer be used: expired sessions, spent codes and reset
// links, sign-in and passkey challenges that ran out, and sign-ups never confirmed within a week;
// and the upkeep of MySQL/MariaDB's full-text index.
import { Op, optimizeSearchIndex, type SearchUpkeep } from "@notebox/db";
import type { CoreDeps } from "./deps";

const DAY = 24 * 60 * 60 * 1000;
export const UNVERIFIED_ACCOUNT_TTL_MS = 7 * DAY;

export async function purgeExpired({ deps, now = new Date() }: { deps: Pick<CoreDeps, "db">; now?: Date }) {
  const { Session, EmailCode, PasswordResetToken, SignInChallenge, PasskeyChallenge, User } = deps.db.models;
  const dayAgo = new Date(now.getTime() - DAY);
  const [sessions, codes, resetTokens, challenges, unverifiedUsers] = await Promise.all([
    Session.destroy({ where: { expiresAt: { [Op.lte]: now } } }),
    EmailCode.destroy({
      where: { [Op.or]: [{ expiresAt: { [Op.lte]: dayAgo } }, { consumedAt: { [Op.lte]: dayAgo } }] },
    }),
    PasswordResetToken.destroy({
      where: { [Op.or]: [{ expiresAt: { [Op.lte]: now } }, { usedAt: { [Op.ne]: null } }] },
    }),
    Promise.all([
      SignInChallenge.destroy({ where: { expiresAt: { [Op.lte]: now } } }),
      PasskeyChallenge.destroy({ where: { expiresAt: { [Op.lte]: now } } }),
    ]).then(([signIn, passkey]) => signIn + passkey),
    User.destroy({
      where: { emailVerifiedAt: null, createdAt: { [Op.lte]: new Date(now.getTime() - UNVERIFIED_ACCOUNT_TTL_MS) } },
    }),
  ]);
  return { sessions, codes, resetTokens, challenges, unverifiedUsers };
}

/**
 * The longest a sweep (hourly) spends on the full-text index (@notebox/db's optimizeSearchIndex),
 * which it stops early once there is nothing left to rewrite. On the bench corpora a pass took longer
 * than this (7 minutes on 100,000 notes, 16 on 1,000,000, docs/operations.md), so it spreads over
 * the next sweeps: InnoDB keeps its place between them.
 */
export const SEARCH_UPKEEP_BUDGET_MS = 5 * 60_000;

export function optimizeSearch({
  deps,
  budgetMs = SEARCH_UPKEEP_BUDGET_MS,
  signal,
}: {
  deps: Pick<CoreDeps, "db">;
  budgetMs?: number;
  signal?: AbortSignal;
}): Promise<SearchUpkeep> {
  return optimizeSearchIndex(deps.db, { budgetMs, signal });
}
