import { templates } from "@notebox/mail";
import type { CoreDeps, RequestMeta } from "../deps";
import { recordAudit } from "../audit";
import { AppError } from "../errors";
import { assertPasswordAllowed } from "../passwords";
import { createSession, invalidateUserSessions } from "../sessions/sessions";

/**
 * Needs the current password. Every session and token of the user ends, this one included; the
 * caller gets a fresh session so the person who changed it stays signed in.
 */
export async function changePassword({
  deps,
  userId,
  currentPassword,
  newPassword,
  meta,
}: {
  deps: CoreDeps;
  userId: string;
  currentPassword: string;
  newPassword: string;
  meta: RequestMeta;
}): Promise<{ token: string }> {
  const { User, PasswordResetToken } = deps.db.models;
  const user = await User.findByPk(userId);
  if (!user) throw new AppError("UNAUTHORIZED", "Sign in again.");
  await deps.limits.check("loginFailuresPerAccount", user.email);
  if (!(await deps.passwords.verify(user.passwordHash, currentPassword))) {
    await deps.limits.consume("loginFailuresPerAccount", user.email);
    throw AppError.field("currentPassword", "That is not your current password.");
  }
  assertPasswordAllowed(newPassword, "newPassword", [user.email, user.username]);
  if (newPassword === currentPassword) {
    throw AppError.field("newPassword", "Choose a password different from the current one.");
  }
  const passwordHash = await deps.passwords.hash(newPassword);

  const token = await deps.db.transaction(async (transaction) => {
    const now = new Date();
    await user.update(
      { passwordHash, passwordChangedAt: now, tokensValidAfter: now, mustChangePassword: false },
      { transaction },
    );
    await PasswordResetToken.destroy({ where: { userId }, transaction });
    await invalidateUserSessions({ deps, userId, transaction });
    await recordAudit({ deps, action: "password_changed", actorId: userId, target: user, ip: meta.ip, transaction });
    const created = await createSession({ deps, userId, meta, transaction });
    return created.token;
  });
  deps.mailer.queue(templates.passwordChanged(user.email, `${deps.config.publicUrl}/forgot-password`));
  return { token };
}
