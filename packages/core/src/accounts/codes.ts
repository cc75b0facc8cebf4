// Emailed six-digit codes: CSPRNG, stored as a keyed hash, 10 minutes, single use, five wrong
// tries, and a new code cancels the previous one.
import { newId, Op, type EmailCodePurpose, type Transaction } from "@notebox/db";
import { templates } from "@notebox/mail";
import { constantTimeEqualHex, generateCode, hashCode } from "../crypto";
import type { CoreDeps } from "../deps";

export const CODE_TTL_MS = 10 * 60 * 1000;
export const CODE_MAX_WRONG_TRIES = 5;

/** Cancels any live code for the address and mails a fresh one once the transaction commits. */
export async function issueEmailCode({
  deps,
  email,
  purpose,
  transaction,
}: {
  deps: CoreDeps;
  email: string;
  purpose: EmailCodePurpose;
  transaction: Transaction;
}): Promise<void> {
  const { EmailCode } = deps.db.models;
  const now = new Date();
  await EmailCode.update(
    { consumedAt: now },
    { where: { email, purpose, consumedAt: { [Op.is]: null } }, transaction },
  );
  const code = generateCode();
  await EmailCode.create(
    {
      id: newId(),
      email,
      purpose,
      codeHash: hashCode(deps.config.jwtSecret, email, code),
      expiresAt: new Date(now.getTime() + CODE_TTL_MS),
      createdAt: now,
    },
    { transaction },
  );
  transaction.afterCommit(() =>
    deps.mailer.queue(templates.verificationCode(email, code, CODE_TTL_MS / 60_000)),
  );
}

export type CodeCheck = "ok" | "wrong" | "dead" | "invalid";
export type CodeRefusal = Exclude<CodeCheck, "ok">;

/**
 * Checks a code inside the caller's transaction, locking the row so two guesses cannot both
 * count as the fifth. A wrong try is recorded; the caller must commit even when it refuses.
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
}): Promise<{ result: CodeCheck; triesLeft: number }> {
  const row = await deps.db.models.EmailCode.findOne({
    where: { email, purpose, consumedAt: { [Op.is]: null } },
    order: [["createdAt", "DESC"]],
    lock: transaction.LOCK.UPDATE,
    transaction,
  });
  const now = new Date();
  if (!row || row.expiresAt.getTime() <= now.getTime()) return { result: "invalid", triesLeft: 0 };
  if (constantTimeEqualHex(row.codeHash, hashCode(deps.config.jwtSecret, email, code))) {
    await row.update({ consumedAt: now }, { transaction });
    return { result: "ok", triesLeft: 0 };
  }
  const attempts = row.attempts + 1;
  const dead = attempts >= CODE_MAX_WRONG_TRIES;
  await row.update({ attempts, consumedAt: dead ? now : null }, { transaction });
  return { result: dead ? "dead" : "wrong", triesLeft: CODE_MAX_WRONG_TRIES - attempts };
}
