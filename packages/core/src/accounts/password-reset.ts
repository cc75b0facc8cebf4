import { Op, type Transaction } from "@notebox/db";
import { templates } from "@notebox/mail";
import { generateToken, hashToken } from "../crypto";
import type { CoreDeps, RequestMeta } from "../deps";
import { recordAudit } from "../audit";
import { AppError } from "../errors";
import { assertPasswordAllowed } from "../passwords";
import { invalidateUserSessions } from "../sessions/sessions";
import { revokeUserApiKeys } from "../tokens";
import { normalizeEmail } from "../users";
import { throttleMailTo } from "./throttle";

const RESET_TTL_MS = 60 * 60 * 1000;

/** Mails a reset link when the address has an account; the answer is the same either way. */
export async function requestPasswordReset({
  deps,
  email: rawEmail,
  meta,
}: {
  deps: CoreDeps;
  email: string;
  meta: RequestMeta;
}): Promise<{ status: "reset_sent" }> {
  const email = normalizeEmail(rawEmail);
  await deps.limits.consume("accountRequestsPerIp", meta.ipKey);
  await throttleMailTo(deps, email);
  const { User, PasswordResetToken } = deps.db.models;
  const user = await User.findOne({ where: { email } });
  if (!user || user.disabledAt) return { status: "reset_sent" };

  const token = generateToken();
  const now = new Date();
  await deps.db.transaction(async (transaction) => {
    // Only the newest link works.
    await PasswordResetToken.destroy({ where: { userId: user.id }, transaction });
    await PasswordResetToken.create(
      { id: hashToken(token), userId: user.id, expiresAt: new Date(now.getTime() + RESET_TTL_MS), createdAt: now },
      { transaction },
    );
  });
  // The token rides in the fragment, which browsers never send to a server or in a Referer.
  const link = `${deps.config.publicUrl}/reset-password#token=${token}`;
  deps.mailer.queue(templates.passwordReset(email, link, RESET_TTL_MS / 60_000));
  return { status: "reset_sent" };
}

const linkInvalid = () => {
  const message = "This reset link has expired or was already used. Ask for a new one.";
  return new AppError("BAD_REQUEST", message, { fieldErrors: { token: [message] }, reason: "link_invalid" });
};

/**
 * The reset link's row and account while the link still works: unused, unexpired, newer than the
 * account's last password change (which kills older links), and the account enabled. Whatever
 * fails, the refusal is the same, and it never says whose link it was.
 */
async function usableResetLink(deps: CoreDeps, token: string, transaction?: Transaction) {
  const { User, PasswordResetToken } = deps.db.models;
  const lock = transaction ? transaction.LOCK.UPDATE : undefined;
  const row = await PasswordResetToken.findByPk(hashToken(token), { lock, transaction });
  const now = Date.now();
  if (!row || row.usedAt || row.expiresAt.getTime() <= now) throw linkInvalid();
  const user = await User.findByPk(row.userId, { lock, transaction });
  if (!user || user.disabledAt || row.createdAt.getTime() < user.passwordChangedAt.getTime()) throw linkInvalid();
  return { row, user };
}

/** Whether a reset link still works, for the page to say so before anyone types a password. */
export async function resetLinkInfo({
  deps,
  token,
}: {
  deps: CoreDeps;
  token: string;
}): Promise<{ status: "valid"; expiresAt: string }> {
  const { row } = await usableResetLink(deps, token);
  return { status: "valid", expiresAt: row.expiresAt.toISOString() };
}

/** Sets a new password from a reset link: single use, ends every session and revokes tokens. */
export async function resetPassword({
  deps,
  token,
  password,
  meta,
}: {
  deps: CoreDeps;
  token: string;
  password: string;
  meta: RequestMeta;
}): Promise<{ status: "password_reset" }> {
  const { PasswordResetToken } = deps.db.models;
  const { user: owner } = await usableResetLink(deps, token);
  assertPasswordAllowed(password, "password", [owner.email, owner.username]);
  const passwordHash = await deps.passwords.hash(password, { key: meta.ipKey });

  await deps.db.transaction(async (transaction) => {
    // Checked again under lock: the link may have been used while the password was hashed.
    const { row, user } = await usableResetLink(deps, token, transaction);
    const now = new Date();
    await row.update({ usedAt: now }, { transaction });
    await PasswordResetToken.destroy({ where: { userId: user.id, id: { [Op.ne]: row.id } }, transaction });
    await user.update(
      {
        passwordHash,
        passwordChangedAt: now,
        tokensValidAfter: now,
        mustChangePassword: false,
        hasPassword: true,
        // Following the emailed link proves the address.
        emailVerifiedAt: user.emailVerifiedAt ?? now,
      },
      { transaction },
    );
    await invalidateUserSessions({ deps, userId: user.id, transaction });
    await recordAudit({ deps, action: "password_reset", actorId: null, target: user, ip: meta.ip, transaction });
    await revokeUserApiKeys({ deps, user, actorId: null, reason: "password_reset", meta, transaction });
  });
  return { status: "password_reset" };
}
