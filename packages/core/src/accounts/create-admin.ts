import { newId } from "@notebox/db";
import type { CoreDeps } from "../deps";
import { AppError } from "../errors";
import { assertPasswordAllowed } from "../passwords";
import { checkUsername, isEmailAddress, normalizeEmail, toPublicUser, usernameKey, type PublicUser } from "../users";

/** The CLI's create-admin: a verified administrator, or an existing account promoted to one. */
export async function createAdmin({
  deps,
  email: rawEmail,
  username: rawUsername,
  password,
}: {
  deps: Pick<CoreDeps, "db" | "passwords">;
  email: string;
  username: string;
  password: string;
}): Promise<{ user: PublicUser; created: boolean }> {
  const email = normalizeEmail(rawEmail);
  if (!isEmailAddress(email)) throw AppError.field("email", "Enter one email address, like name@example.com.");
  const { username, problem } = checkUsername(rawUsername);
  if (problem !== null) throw AppError.field("username", problem);
  assertPasswordAllowed(password, "password", [email, username]);
  const passwordHash = await deps.passwords.hash(password);
  const { User } = deps.db.models;
  return deps.db.transaction(async (transaction) => {
    const now = new Date();
    const existing = await User.findOne({ where: { email }, lock: transaction.LOCK.UPDATE, transaction });
    if (existing) {
      await existing.update(
        {
          role: "admin",
          passwordHash,
          passwordChangedAt: now,
          tokensValidAfter: now,
          emailVerifiedAt: existing.emailVerifiedAt ?? now,
        },
        { transaction },
      );
      return { user: toPublicUser(existing), created: false };
    }
    if (await User.findOne({ where: { usernameKey: usernameKey(username) }, transaction })) {
      throw AppError.field("username", "This username is taken.", "CONFLICT");
    }
    const user = await User.create(
      {
        id: newId(),
        username,
        usernameKey: usernameKey(username),
        email,
        passwordHash,
        role: "admin",
        emailVerifiedAt: now,
        tokensValidAfter: now,
        passwordChangedAt: now,
      },
      { transaction },
    );
    return { user: toPublicUser(user), created: true };
  });
}
