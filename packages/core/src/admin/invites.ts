// Invitations: an administrator invites an address with a role; the mailed link (single use, 7
// days, only its hash kept) lets its holder choose a username and password and signs them in. It
// works whatever the sign-up policy and whatever the address's domain: the administrator chose.
import { newId, Op, type InviteRow, type Role } from "@notebox/db";
import { templates } from "@notebox/mail";
import { recordAudit } from "../audit";
import { generateToken, hashToken } from "../crypto";
import type { CoreDeps, RequestMeta } from "../deps";
import { AppError } from "../errors";
import { assertPasswordAllowed } from "../passwords";
import { createSession } from "../sessions/sessions";
import { issueDeviceToken } from "../sessions/devices";
import { normalizeEmail, toPublicUser } from "../users";
import { createVerifiedAccount } from "../accounts/verified-account";

export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export type InviteStatus = "pending" | "used" | "revoked" | "expired";

function statusOf(invite: InviteRow, now = Date.now()): InviteStatus {
  if (invite.usedAt) return "used";
  if (invite.revokedAt) return "revoked";
  return invite.expiresAt.getTime() <= now ? "expired" : "pending";
}

function toInvite(invite: InviteRow) {
  return {
    id: invite.id,
    email: invite.email,
    role: invite.role as Role,
    status: statusOf(invite),
    createdAt: invite.createdAt.toISOString(),
    expiresAt: invite.expiresAt.toISOString(),
  };
}

export async function createInvite({
  deps,
  actorId,
  email: rawEmail,
  role,
  meta,
}: {
  deps: CoreDeps;
  actorId: string;
  email: string;
  role: Role;
  meta: RequestMeta;
}) {
  const email = normalizeEmail(rawEmail);
  const token = generateToken();
  const invite = await deps.db.transaction(async (transaction) => {
    const existing = await deps.db.models.User.findOne({ where: { email }, transaction });
    if (existing?.emailVerifiedAt) {
      throw AppError.field("email", "This address already has an account.", "CONFLICT");
    }
    // Only the newest invitation of an address works.
    await deps.db.models.Invite.update(
      { revokedAt: new Date() },
      { where: { email, usedAt: null, revokedAt: null }, transaction },
    );
    const now = Date.now();
    const invite = await deps.db.models.Invite.create(
      {
        id: newId(),
        tokenHash: hashToken(token),
        email,
        role,
        invitedBy: actorId,
        createdAt: new Date(now),
        expiresAt: new Date(now + INVITE_TTL_MS),
      },
      { transaction },
    );
    await recordAudit({
      deps,
      action: "invite_created",
      actorId,
      target: { id: null, email },
      ip: meta.ip,
      details: { role },
      transaction,
    });
    return invite;
  });
  // The token rides in the fragment, which browsers never send to a server or in a Referer.
  const link = `${deps.config.publicUrl}/invite#token=${token}`;
  deps.mailer.queue(templates.invitation(email, link, role, INVITE_TTL_MS / (24 * 60 * 60 * 1000)));
  return toInvite(invite);
}

/** The invitations, newest first (the last 200). */
export async function listInvites({ deps }: { deps: CoreDeps }) {
  const rows = await deps.db.models.Invite.findAll({ order: [["createdAt", "DESC"]], limit: 200 });
  return { items: rows.map(toInvite) };
}

export async function revokeInvite({
  deps,
  actorId,
  id,
  meta,
}: {
  deps: CoreDeps;
  actorId: string;
  id: string;
  meta: RequestMeta;
}) {
  return deps.db.transaction(async (transaction) => {
    const invite = await deps.db.models.Invite.findByPk(id, { lock: transaction.LOCK.UPDATE, transaction });
    if (!invite) throw new AppError("NOT_FOUND", "No such invitation.");
    if (statusOf(invite) === "pending") {
      await invite.update({ revokedAt: new Date() }, { transaction });
      await recordAudit({
        deps,
        action: "invite_revoked",
        actorId,
        target: { id: null, email: invite.email },
        ip: meta.ip,
        transaction,
      });
    }
    return toInvite(invite);
  });
}

const inviteInvalid = () =>
  new AppError("NOT_FOUND", "This invitation is no longer valid. Ask your administrator for a new one.", {
    reason: "invite_invalid",
  });

async function pendingInvite(deps: CoreDeps, token: string) {
  const invite = await deps.db.models.Invite.findOne({ where: { tokenHash: hashToken(token) } });
  if (!invite || statusOf(invite) !== "pending") throw inviteInvalid();
  return invite;
}

/** What the invitation page shows before the person chooses a name and password. */
export async function inviteInfo({ deps, token }: { deps: CoreDeps; token: string }) {
  const invite = await pendingInvite(deps, token);
  return { email: invite.email, role: invite.role as Role, expiresAt: invite.expiresAt.toISOString() };
}

/** Creates the invited account (verified: the link was mailed to it) and signs it in. */
export async function acceptInvite({
  deps,
  token,
  username,
  password,
  meta,
}: {
  deps: CoreDeps;
  token: string;
  username: string;
  password: string;
  meta: RequestMeta;
}) {
  const found = await pendingInvite(deps, token);
  assertPasswordAllowed(password, "password", [found.email, username, found.email.split("@")[0]!]);
  const passwordHash = await deps.passwords.hash(password, { key: meta.ipKey });
  const { Invite } = deps.db.models;
  const { user, sessionToken } = await deps.db.transaction(async (transaction) => {
    // Used once: the row is claimed before the account exists.
    const [claimed] = await Invite.update(
      { usedAt: new Date() },
      {
        where: { id: found.id, usedAt: null, revokedAt: null, expiresAt: { [Op.gt]: new Date() } },
        transaction,
      },
    );
    if (claimed === 0) throw inviteInvalid();
    const user = await createVerifiedAccount(
      deps,
      {
        email: found.email,
        username,
        passwordHash,
        role: found.role as Role,
        hasPassword: true,
        lastLoginAt: new Date(),
      },
      inviteInvalid,
      transaction,
    );
    const session = await createSession({ deps, userId: user.id, meta, transaction });
    await recordAudit({ deps, action: "invite_accepted", actorId: user.id, target: user, ip: meta.ip, transaction });
    return { user, sessionToken: session.token };
  });
  return {
    user: toPublicUser(user),
    token: sessionToken,
    deviceToken: issueDeviceToken(deps, user.id),
  };
}
