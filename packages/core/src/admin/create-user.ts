// An administrator opens an account for someone. It exists at once, verified (the address is
// proven when its holder follows the link), with a password nobody knows; the mailed link is a
// password-reset link that lasts 7 days, so its holder chooses the password at /reset-password.
import { newId, UniqueConstraintError, type Role } from "@notebox/db";
import { templates } from "@notebox/mail";
import { usernameTaken } from "../accounts/register";
import { recordAudit } from "../audit";
import { generateToken, hashToken } from "../crypto";
import type { CoreDeps, RequestMeta } from "../deps";
import { AppError } from "../errors";
import { checkUsername, isEmailAddress, normalizeEmail, usernameKey } from "../users";
import { toAdminSummary, type AdminUserListItem } from "./users";

/** How long the "choose your password" link of a created account works: as long as an invitation's. */
export const ACCOUNT_LINK_TTL_MS = 7 * 24 * 60 * 60 * 1000;

const emailTaken = () => AppError.field("email", "This address already has an account.", "CONFLICT");

export async function createUser({
  deps,
  actorId,
  email: rawEmail,
  username: rawUsername,
  role,
  meta,
}: {
  deps: CoreDeps;
  actorId: string;
  email: string;
  username: string;
  role: Role;
  meta: RequestMeta;
}): Promise<AdminUserListItem> {
  const email = normalizeEmail(rawEmail);
  if (!isEmailAddress(email)) throw AppError.field("email", "Enter one email address, like name@example.com.");
  const { username, problem } = checkUsername(rawUsername);
  if (problem !== null) throw AppError.field("username", problem);
  // The hash of a secret thrown away at once: no password signs in until the link sets one.
  const passwordHash = await deps.passwords.hash(generateToken(), { key: meta.ipKey, known: true });
  const token = generateToken();
  const { User, EmailCode, PasswordResetToken } = deps.db.models;

  const created = await deps.db
    .transaction(async (transaction) => {
      const existing = await User.findOne({ where: { email }, lock: transaction.LOCK.UPDATE, transaction });
      if (existing?.emailVerifiedAt) throw emailTaken();
      if (existing) {
        // A sign-up of the address that was never confirmed gives way, as it does to an invitation,
        // and its codes die with it.
        await EmailCode.destroy({ where: { email, purpose: "verify_email" }, transaction });
        await existing.destroy({ transaction });
      }
      const key = usernameKey(username);
      if (await User.findOne({ where: { usernameKey: key }, transaction })) throw usernameTaken();
      // One instant for the password and the link: a link older than the password is refused.
      const now = new Date();
      const user = await User.create(
        {
          id: newId(),
          username,
          usernameKey: key,
          email,
          passwordHash,
          role,
          emailVerifiedAt: now,
          // Set, not left to the column defaults, so the summary answered below reads them.
          disabledAt: null,
          lastLoginAt: null,
          tokensValidAfter: now,
          passwordChangedAt: now,
          hasPassword: false,
        },
        { transaction },
      );
      await PasswordResetToken.create(
        {
          id: hashToken(token),
          userId: user.id,
          expiresAt: new Date(now.getTime() + ACCOUNT_LINK_TTL_MS),
          createdAt: now,
        },
        { transaction },
      );
      await recordAudit({
        deps,
        action: "user_created",
        actorId,
        target: user,
        ip: meta.ip,
        details: { role },
        transaction,
      });
      const actor = await User.findByPk(actorId, { attributes: ["username"], transaction });
      return { user, invitedBy: actor?.username };
    })
    .catch((error: unknown) => {
      // Two administrators created the same name or address at once; the later one hears why.
      if (error instanceof UniqueConstraintError) {
        throw Object.keys(error.fields).some((f) => f.includes("username")) ? usernameTaken() : emailTaken();
      }
      throw error;
    });

  // Mailed only once the account is committed. The token rides in the fragment, which browsers
  // never send to a server or in a Referer.
  const link = `${deps.config.publicUrl}/reset-password#token=${token}`;
  const days = ACCOUNT_LINK_TTL_MS / (24 * 60 * 60 * 1000);
  deps.mailer.queue(templates.accountCreated(email, link, days, created.invitedBy));
  return { ...toAdminSummary(created.user), notes: 0, files: 0, usedBytes: 0 };
}
