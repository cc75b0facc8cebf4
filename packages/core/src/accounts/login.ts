import type { CoreDeps, RequestMeta } from "../deps";
import { recordAudit } from "../audit";
import { AppError } from "../errors";
import { createSession, invalidateSession } from "../sessions/sessions";
import { normalizeEmail, toPublicUser, type PublicUser } from "../users";

const wrongCredentials = () => new AppError("UNAUTHORIZED", "Wrong email or password.");

/**
 * Unknown address and wrong password give the same answer in about the same time (a dummy hash
 * is verified). Throttled per address and per account.
 */
export async function login({
  deps,
  email: rawEmail,
  password,
  meta,
  previousSessionId,
}: {
  deps: CoreDeps;
  email: string;
  password: string;
  meta: RequestMeta;
  /** The session the browser had, ended so a sign-in always gets a new token. */
  previousSessionId?: string | null;
}): Promise<{ user: PublicUser; token: string; mustChangePassword: boolean }> {
  const email = normalizeEmail(rawEmail);
  await deps.limits.consume("loginPerIp", meta.ip);
  await deps.limits.check("loginFailuresPerAccount", email);

  const user = await deps.db.models.User.findOne({ where: { email } });
  const ok = user
    ? await deps.passwords.verify(user.passwordHash, password)
    : await deps.passwords.verifyDummy(password);
  if (!user || !ok) {
    await deps.limits.consume("loginFailuresPerAccount", email);
    await recordAudit({
      deps,
      action: "sign_in_failed",
      actorId: null,
      target: { id: user?.id ?? null, email },
      ip: meta.ip,
    });
    throw wrongCredentials();
  }
  if (!user.emailVerifiedAt || user.disabledAt) {
    const reason = user.disabledAt ? "account_disabled" : "email_not_verified";
    await recordAudit({ deps, action: "sign_in_failed", actorId: null, target: user, ip: meta.ip, details: { reason } });
  }
  if (!user.emailVerifiedAt) {
    throw new AppError("FORBIDDEN", "Confirm your email address first: enter the code we sent you.", {
      reason: "email_not_verified",
    });
  }
  if (user.disabledAt) {
    throw new AppError("FORBIDDEN", "This account is disabled. Contact your administrator.", {
      reason: "account_disabled",
    });
  }
  await deps.limits.reset("loginFailuresPerAccount", email);
  if (previousSessionId) await invalidateSession({ deps, sessionId: previousSessionId });
  const token = await deps.db.transaction(async (transaction) => {
    // The user row first: its write lock queues simultaneous sign-ins of one account. Inserting the
    // session first would take a shared lock on the row (the foreign key), and two sign-ins each
    // holding one and asking to update it deadlock on MySQL.
    await user.update({ lastLoginAt: new Date() }, { transaction });
    const created = await createSession({ deps, userId: user.id, meta, transaction });
    await recordAudit({ deps, action: "sign_in", actorId: user.id, target: user, ip: meta.ip, transaction });
    return created.token;
  });
  // An imported account signs in with its old password and must choose a new one first.
  return { user: toPublicUser(user), token, mustChangePassword: Boolean(user.mustChangePassword) };
}
