// An account whose address is proven when it is made: by the link of an invitation, by an
// administrator's "choose your password" link, or by a single sign-on provider that verified it.
import { newId, type Role, type Transaction, type UserRow } from "@notebox/db";
import type { CoreDeps } from "../deps";
import type { AppError } from "../errors";
import { usernameKey } from "../users";
import { usernameTaken } from "./register";

/**
 * Creates it in `transaction`. A sign-up of the address that was never confirmed gives way, and
 * its codes die with it; a confirmed account of the address throws `addressTaken()`, a taken
 * username the username field's 409.
 */
export async function createVerifiedAccount(
  deps: Pick<CoreDeps, "db">,
  account: {
    email: string;
    username: string;
    passwordHash: string;
    role?: Role;
    /** False when nobody knows the password yet (it is a hash of a secret thrown away). */
    hasPassword: boolean;
    /** Set when the account signs in at once. */
    lastLoginAt?: Date;
  },
  addressTaken: () => AppError,
  transaction: Transaction,
): Promise<UserRow> {
  const { User, EmailCode } = deps.db.models;
  const { email, username } = account;
  const existing = await User.findOne({ where: { email }, lock: transaction.LOCK.UPDATE, transaction });
  if (existing?.emailVerifiedAt) throw addressTaken();
  if (existing) {
    await EmailCode.destroy({ where: { email, purpose: "verify_email" }, transaction });
    await existing.destroy({ transaction });
  }
  const key = usernameKey(username);
  if (await User.findOne({ where: { usernameKey: key }, transaction })) throw usernameTaken();
  const now = new Date();
  return User.create(
    {
      id: newId(),
      username,
      usernameKey: key,
      email,
      passwordHash: account.passwordHash,
      role: account.role ?? "user",
      emailVerifiedAt: now,
      // Set, not left to the column defaults, so what the caller answers reads them.
      disabledAt: null,
      lastLoginAt: account.lastLoginAt ?? null,
      tokensValidAfter: now,
      passwordChangedAt: now,
      hasPassword: account.hasPassword,
    },
    { transaction },
  );
}
