import { templates } from "@notebox/mail";
import type { CoreDeps, RequestMeta } from "../deps";
import { recordAudit } from "../audit";
import { AppError } from "../errors";
import { assertPasswordAllowed } from "../passwords";
import { createSession, invalidateUserSessions } from "../sessions/sessions";
import { revokeUserApiKeys, type RevokedApiKey } from "../tokens";

/**
 * Needs the current password. Every session and token of the user ends, this one included, and
 * every API key is revoked (one planted with the old password must not outlive it); the caller
 * gets a fresh session so the person who changed it stays signed in, and hears which keys went.
 */
export async function changePassword({
  deps,
  userId,
  currentPassword,
  newPassword,
  meta,
  callerKey,
}: {
  deps: CoreDeps;
  userId: string;
  currentPassword: string;
  newPassword: string;
  meta: RequestMeta;
  /**
   * Whose wrong guesses these are: the session (or token) making the request. Sign-in failures
   * never count here, so strangers guessing at the sign-in form cannot stop the owner.
   */
  callerKey: string;
}): Promise<{ token: string; revokedApiKeys: RevokedApiKey[] }> {
  const { User, PasswordResetToken } = deps.db.models;
  const user = await User.findByPk(userId);
  if (!user) throw new AppError("UNAUTHORIZED", "Sign in again.");
  const reservation = await deps.limits.reserve([
    { name: "passwordChecksPerSession", key: callerKey, onSuccess: "reset" },
  ]);
  const caller = { key: callerKey, known: true };
  if (!(await deps.passwords.verify(user.passwordHash, currentPassword, caller))) {
    throw AppError.field("currentPassword", "That is not your current password.");
  }
  await reservation.succeeded();
  assertPasswordAllowed(newPassword, "newPassword", [user.email, user.username]);
  if (newPassword === currentPassword) {
    throw AppError.field("newPassword", "Choose a password different from the current one.");
  }
  const passwordHash = await deps.passwords.hash(newPassword, caller);

  const { token, revokedApiKeys } = await deps.db.transaction(async (transaction) => {
    const now = new Date();
    await user.update(
      { passwordHash, passwordChangedAt: now, tokensValidAfter: now, mustChangePassword: false },
      { transaction },
    );
    await PasswordResetToken.destroy({ where: { userId }, transaction });
    await invalidateUserSessions({ deps, userId, transaction });
    await recordAudit({ deps, action: "password_changed", actorId: userId, target: user, ip: meta.ip, transaction });
    const revoked = await revokeUserApiKeys({
      deps,
      user,
      actorId: userId,
      reason: "password_changed",
      meta,
      transaction,
    });
    const created = await createSession({ deps, userId, meta, transaction });
    return { token: created.token, revokedApiKeys: revoked };
  });
  deps.mailer.queue(templates.passwordChanged(user.email, `${deps.config.publicUrl}/forgot-password`, revokedApiKeys));
  return { token, revokedApiKeys };
}
