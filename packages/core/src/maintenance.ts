// Periodic clean-up of rows that can no longer be used: expired sessions, spent codes and reset
// links, sign-in and passkey challenges that ran out, and sign-ups never confirmed within a week.
import { Op } from "@notebox/db";
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
