// An administrator opens an account for someone. It exists at once, verified (the address is
// proven when its holder follows the link), with a password nobody knows; the mailed link is a
// password-reset link that lasts 7 days, so its holder chooses the password at /reset-password.
import { UniqueConstraintError, type Role } from "@notebox/db";
import { templates } from "@notebox/mail";
import { usernameTaken } from "../accounts/register";
import { createVerifiedAccount } from "../accounts/verified-account";
import { recordAudit } from "../audit";
import { generateToken, hashToken } from "../crypto";
import type { CoreDeps, RequestMeta } from "../deps";
import { AppError } from "../errors";
import { checkUsername, isEmailAddress, normalizeEmail } from "../users";
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
  const { User, PasswordResetToken } = deps.db.models;

  const created = await deps.db
    .transaction(async (transaction) => {
      const user = await createVerifiedAccount(
        deps,
        { email, username, passwordHash, role, hasPassword: false },
        emailTaken,
        transaction,
      );
      // One instant for the password and the link: a link older than the password is refused.
      const now = user.passwordChangedAt;
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
