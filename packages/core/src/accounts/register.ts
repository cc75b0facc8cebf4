import { newId, Op, UniqueConstraintError } from "@notebox/db";
import { templates } from "@notebox/mail";
import type { CoreDeps, RequestMeta } from "../deps";
import { AppError } from "../errors";
import { assertPasswordAllowed } from "../passwords";
import { normalizeEmail, usernameKey } from "../users";
import { domainAllowed, passwordSignInOff, readSettings } from "../admin/settings";
import { issueEmailCode, liveEmailCodes } from "./codes";
import { throttleMailTo } from "./throttle";

/** An unverified sign-up holds its username this long; after that anyone may take it. */
const PENDING_HOLD_MS = 24 * 60 * 60 * 1000;

export const usernameTaken = () => AppError.field("username", "This username is taken. Try another one.", "CONFLICT");

/**
 * Starts a sign-up. The answer is the same whether the address is new, pending or already an
 * account: an existing owner is mailed an "account exists" notice instead of a code.
 */
export async function register({
  deps,
  username,
  email: rawEmail,
  password,
  meta,
}: {
  deps: CoreDeps;
  username: string;
  email: string;
  password: string;
  meta: RequestMeta;
}): Promise<{ status: "verification_sent" }> {
  const email = normalizeEmail(rawEmail);
  await deps.limits.consume("accountRequestsPerIp", meta.ipKey);
  assertPasswordAllowed(password, "password", [email, username, email.split("@")[0]!]);
  const settings = await readSettings(deps);
  if (!settings.passwordSignIn) throw passwordSignInOff();
  if (!domainAllowed(settings, email)) {
    throw AppError.field("email", `Sign-up is open to addresses at ${settings.allowedDomains.join(", ")} only.`);
  }

  // Hash before looking anything up so every branch costs the same time.
  const passwordHash = await deps.passwords.hash(password, { key: meta.ipKey });
  // Sign-up by invitation only, or closed: the same answer as ever, and nothing is created.
  if (settings.signUp !== "open") return { status: "verification_sent" };
  const { User } = deps.db.models;
  const key = usernameKey(username);
  const { publicUrl } = deps.config;

  try {
    await deps.db.transaction(async (transaction) => {
      const existing = await User.findOne({ where: { email }, lock: transaction.LOCK.UPDATE, transaction });
      // The name check comes first and ignores only this address's own pending sign-up, so its
      // answer cannot tell whether the address has an account.
      const holder = await User.findOne({
        where: {
          usernameKey: key,
          ...(existing && !existing.emailVerifiedAt ? { id: { [Op.ne]: existing.id } } : {}),
        },
        lock: transaction.LOCK.UPDATE,
        transaction,
      });
      if (holder) {
        const stalePending = !holder.emailVerifiedAt && Date.now() - holder.createdAt.getTime() > PENDING_HOLD_MS;
        if (!stalePending) throw usernameTaken();
        await holder.destroy({ transaction });
      }
      await throttleMailTo(deps, email);

      if (existing?.emailVerifiedAt) {
        transaction.afterCommit(() =>
          deps.mailer.queue(templates.accountExists(email, `${publicUrl}/sign-in`, `${publicUrl}/forgot-password`)),
        );
        return;
      }

      const attempt = { username, usernameKey: key, passwordHash };
      if (existing) {
        // A sign-up that was never confirmed: this attempt gets a code of its own and changes
        // nothing until that code is typed, so whoever proves the mailbox chooses the password.
        const pending = await liveEmailCodes({ deps, email, purpose: "verify_email", transaction });
        await issueEmailCode({
          deps,
          email,
          purpose: "verify_email",
          attempt,
          anotherAttempt: pending.length > 0,
          transaction,
        });
        return;
      }
      const now = new Date();
      await User.create(
        { id: newId(), ...attempt, email, emailVerifiedAt: null, tokensValidAfter: now, passwordChangedAt: now },
        { transaction },
      );
      await issueEmailCode({ deps, email, purpose: "verify_email", attempt, transaction });
    });
  } catch (error) {
    // Two sign-ups raced for the same name or address; the loser sees what a later attempt would.
    if (error instanceof UniqueConstraintError) {
      if (Object.keys(error.fields).some((f) => f.includes("username"))) throw usernameTaken();
      return { status: "verification_sent" };
    }
    throw error;
  }
  return { status: "verification_sent" };
}

/** Sends a new code to a pending sign-up. Same answer for every address. */
export async function resendCode({
  deps,
  email: rawEmail,
  meta,
}: {
  deps: CoreDeps;
  email: string;
  meta: RequestMeta;
}): Promise<{ status: "verification_sent" }> {
  const email = normalizeEmail(rawEmail);
  await deps.limits.consume("accountRequestsPerIp", meta.ipKey);
  await throttleMailTo(deps, email);
  await deps.db.transaction(async (transaction) => {
    const user = await deps.db.models.User.findOne({ where: { email }, lock: transaction.LOCK.UPDATE, transaction });
    if (!user || user.emailVerifiedAt) return;
    // The newest attempt is renewed: its live codes are replaced, other attempts keep theirs.
    const newest = await deps.db.models.EmailCode.findOne({
      where: { email, purpose: "verify_email", passwordHash: { [Op.ne]: null } },
      order: [["createdAt", "DESC"]],
      transaction,
    });
    const attempt = newest
      ? { username: newest.username!, usernameKey: newest.usernameKey!, passwordHash: newest.passwordHash! }
      : { username: user.username, usernameKey: user.usernameKey, passwordHash: user.passwordHash };
    const live = await liveEmailCodes({ deps, email, purpose: "verify_email", transaction });
    const replaces = live.filter((row) => (row.passwordHash ?? user.passwordHash) === attempt.passwordHash);
    await issueEmailCode({
      deps,
      email,
      purpose: "verify_email",
      attempt,
      replaces,
      anotherAttempt: live.length > replaces.length,
      transaction,
    });
  });
  return { status: "verification_sent" };
}
