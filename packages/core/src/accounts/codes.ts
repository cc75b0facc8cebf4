// Emailed six-digit codes: CSPRNG, stored as a keyed hash, 10 minutes, single use, five wrong
// tries. A code confirms one sign-up attempt: the credentials that attempt chose travel with it,
// so a second sign-up for a pending address never changes what the first one's code confirms.
import { newId, Op, type EmailCodePurpose, type EmailCodeRow, type Transaction } from "@notebox/db";
import { templates } from "@notebox/mail";
import { constantTimeEqualHex, generateCode, hashCode } from "../crypto";
import type { CoreDeps } from "../deps";

export const CODE_TTL_MS = 10 * 60 * 1000;
export const CODE_MAX_WRONG_TRIES = 5;

/** What a sign-up attempt chose, applied to the account when its code is typed. */
export interface SignUpAttempt {
  username: string;
  usernameKey: string;
  passwordHash: string;
}

const live = (email: string, purpose: EmailCodePurpose) => ({ email, purpose, consumedAt: { [Op.is]: null } });

/**
 * Mails a fresh code for a sign-up attempt once the transaction commits. A resend (`replaces`)
 * cancels the live codes of the attempt it renews; a new attempt leaves the others' codes alive,
 * and its mail says that another sign-up was started.
 */
export async function issueEmailCode({
  deps,
  email,
  purpose,
  attempt,
  replaces,
  anotherAttempt = false,
  transaction,
}: {
  deps: CoreDeps;
  email: string;
  purpose: EmailCodePurpose;
  attempt: SignUpAttempt;
  /** The codes this one renews (a resend of the same attempt). */
  replaces?: EmailCodeRow[];
  /** Other attempts for the address are pending: say so in the mail. */
  anotherAttempt?: boolean;
  transaction: Transaction;
}): Promise<void> {
  const { EmailCode } = deps.db.models;
  const now = new Date();
  if (replaces?.length) {
    await EmailCode.update({ consumedAt: now }, { where: { id: replaces.map((r) => r.id) }, transaction });
  }
  const code = generateCode();
  await EmailCode.create(
    {
      id: newId(),
      email,
      purpose,
      codeHash: hashCode(deps.config.jwtSecret, email, code),
      expiresAt: new Date(now.getTime() + CODE_TTL_MS),
      createdAt: now,
      ...attempt,
    },
    { transaction },
  );
  const message = templates.verificationCode(email, code, CODE_TTL_MS / 60_000, {
    username: attempt.username,
    anotherAttempt,
  });
  transaction.afterCommit(() => deps.mailer.queue(message));
}

/** The live codes of an address, newest first, locked so two guesses cannot both count as the fifth. */
export async function liveEmailCodes({
  deps,
  email,
  purpose,
  transaction,
}: {
  deps: CoreDeps;
  email: string;
  purpose: EmailCodePurpose;
  transaction: Transaction;
}): Promise<EmailCodeRow[]> {
  return deps.db.models.EmailCode.findAll({
    where: { ...live(email, purpose), expiresAt: { [Op.gt]: new Date() } },
    order: [["createdAt", "DESC"]],
    lock: transaction.LOCK.UPDATE,
    transaction,
  });
}

export type CodeCheck = "ok" | "wrong" | "dead" | "invalid";
export type CodeRefusal = Exclude<CodeCheck, "ok">;

/**
 * Checks a code against every live code of the address inside the caller's transaction. The one
 * that matches is used up, with every other code of the address, and returned: its attempt is
 * the one to confirm. A wrong try counts against every live code; the caller must commit even
 * when it refuses.
 */
export async function checkEmailCode({
  deps,
  email,
  purpose,
  code,
  transaction,
}: {
  deps: CoreDeps;
  email: string;
  purpose: EmailCodePurpose;
  code: string;
  transaction: Transaction;
}): Promise<{ result: "ok"; row: EmailCodeRow } | { result: CodeRefusal; triesLeft: number }> {
  const rows = await liveEmailCodes({ deps, email, purpose, transaction });
  if (rows.length === 0) return { result: "invalid", triesLeft: 0 };
  const now = new Date();
  const typed = hashCode(deps.config.jwtSecret, email, code);
  // Every row is compared, so the time taken does not say which attempt matched.
  const matches = rows.filter((row) => constantTimeEqualHex(row.codeHash, typed));
  const match = matches[0];
  if (match) {
    await deps.db.models.EmailCode.update({ consumedAt: now }, { where: live(email, purpose), transaction });
    return { result: "ok", row: match };
  }
  let triesLeft = 0;
  for (const row of rows) {
    const attempts = row.attempts + 1;
    await row.update({ attempts, consumedAt: attempts >= CODE_MAX_WRONG_TRIES ? now : null }, { transaction });
    triesLeft = Math.max(triesLeft, CODE_MAX_WRONG_TRIES - attempts);
  }
  return triesLeft > 0 ? { result: "wrong", triesLeft } : { result: "dead", triesLeft: 0 };
}
