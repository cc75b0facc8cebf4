import { UniqueConstraintError } from "@notebox/db";
import type { CoreDeps, RequestMeta } from "../deps";
import { recordAudit } from "../audit";
import { AppError } from "../errors";
import { issueDeviceToken } from "../sessions/devices";
import { createSession } from "../sessions/sessions";
import { normalizeEmail, toPublicUser, type PublicUser } from "../users";
import { checkEmailCode } from "./codes";

const usernameTakenSince = () =>
  AppError.field("code", "The username chosen at sign-up was taken since. Sign up again with another one.", "CONFLICT");

/** Confirms the address with the emailed code, activates the account and signs it in, in one transaction. */
export async function verifyEmail({
  deps,
  email: rawEmail,
  code,
  meta,
}: {
  deps: CoreDeps;
  email: string;
  code: string;
  meta: RequestMeta;
}): Promise<{ user: PublicUser; token: string; deviceToken: string }> {
  const email = normalizeEmail(rawEmail);
  await deps.limits.consume("codeAttemptsPerIp", meta.ipKey);

  // A wrong try must be recorded even though the request fails, so the transaction returns the
  // outcome and the refusal is thrown only after it committed.
  const outcome = await deps.db.transaction(async (transaction) => {
    const check = await checkEmailCode({ deps, email, purpose: "verify_email", code, transaction });
    if (check.result !== "ok") return check;
    const user = await deps.db.models.User.findOne({ where: { email }, lock: transaction.LOCK.UPDATE, transaction });
    if (!user) return { result: "invalid" as const, triesLeft: 0 };
    const now = new Date();
    const { username, usernameKey, passwordHash } = check.row;
    // The attempt whose code was typed decides the credentials (codes from before attempts kept
    // their own confirm what the account already holds).
    const chosen =
      !user.emailVerifiedAt && username && usernameKey && passwordHash && passwordHash !== user.passwordHash
        ? { username, usernameKey, passwordHash, passwordChangedAt: now, tokensValidAfter: now }
        : {};
    try {
      await user.update({ ...chosen, emailVerifiedAt: user.emailVerifiedAt ?? now, lastLoginAt: now }, { transaction });
    } catch (error) {
      // The name this attempt chose was taken by another sign-up since.
      if (error instanceof UniqueConstraintError) throw usernameTakenSince();
      throw error;
    }
    const { token } = await createSession({ deps, userId: user.id, meta, transaction });
    await recordAudit({
      deps,
      action: "sign_in",
      actorId: user.id,
      target: user,
      ip: meta.ip,
      details: { via: "email_code" },
      transaction,
    });
    return { result: "ok" as const, user, token };
  });

  switch (outcome.result) {
    case "ok":
      return {
        user: toPublicUser(outcome.user),
        token: outcome.token,
        deviceToken: issueDeviceToken(deps, outcome.user.id),
      };
    case "wrong":
      throw AppError.field(
        "code",
        `That code is not right. ${outcome.triesLeft} ${outcome.triesLeft === 1 ? "try" : "tries"} left.`,
      );
    case "dead":
      throw AppError.field("code", "Too many wrong tries: this code no longer works. Ask for a new one.");
    case "invalid":
      throw AppError.field("code", "This code has expired or was replaced. Ask for a new one.");
  }
}
