// An administrator creates an account for someone (admin.users.create), through the real server:
// the account is verified at once but has no password anyone knows; the mailed link (the reset
// link's mechanism, 7 days, single use) sets the first one at /reset-password.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { hashToken } from "@notebox/core";
import { auditRows, ok, signedIn, type AdminUserListItem, type AuditEntry, type Page } from "../support/admin";
import type { TestClient } from "../support/client";
import { codeFrom, resetLinkFrom, type ReceivedMail } from "../support/smtp";
import { createUser, newAccount, startTestServer, type TestServer } from "../support/server";

const PUBLIC_URL = "http://notes.example.test:8080";
const DAY_MS = 24 * 60 * 60 * 1000;

let t: TestServer;
let admin: Awaited<ReturnType<typeof signedIn>>;
beforeAll(async () => {
  t = await startTestServer({ env: { PUBLIC_URL } });
  admin = await signedIn(t, "admin");
});
afterAll(() => t.close());
afterEach(() => {
  vi.useRealTimers();
});

const create = (client: TestClient, input: Record<string, unknown>) =>
  client.mutation<AdminUserListItem>("admin.users.create", input);

async function createAccount(role: "user" | "admin" = "user") {
  const account = newAccount("made");
  const user = ok(await create(admin.client, { email: account.email, username: account.username, role }));
  const mail = await t.smtp.waitFor(account.email, /account is ready/i);
  return { account, user, mail, token: tokenOf(mail) };
}

function tokenOf(mail: ReceivedMail): string {
  const link = resetLinkFrom(mail);
  expect(link.startsWith(`${PUBLIC_URL}/reset-password#token=`)).toBe(true);
  return new URL(link).hash.replace("#token=", "");
}

const setPassword = (token: string, password: string) => t.client().mutation("auth.resetPassword", { token, password });

const login = (email: string, password: string) => t.client().mutation("auth.login", { email, password });

describe("admin.users.create", () => {
  it("creates a verified account whose mailed link sets its first password, once", async () => {
    const { account, user, mail, token } = await createAccount("admin");
    expect(user).toMatchObject({
      email: account.email,
      username: account.username,
      role: "admin",
      verified: true,
      disabled: false,
      lastLoginAt: null,
      notes: 0,
      files: 0,
      usedBytes: 0,
    });
    // The same shape the users list shows.
    const listed = ok(await admin.client.query<Page<AdminUserListItem>>("admin.users.list", { q: account.email }));
    expect(listed.items).toEqual([user]);
    expect(mail.text).toContain(admin.account.username);
    expect(mail.text).toContain("7 days");

    // Only the token's hash is kept, and it lasts 7 days.
    expect(await t.models.PasswordResetToken.count({ where: { id: token } })).toBe(0);
    const row = await t.models.PasswordResetToken.findByPk(hashToken(token));
    expect(row!.userId).toBe(user.id);
    expect(row!.expiresAt.getTime() - row!.createdAt.getTime()).toBe(7 * DAY_MS);

    // No password signs in until the link sets one.
    expect((await login(account.email, account.password)).status).toBe(401);
    expect((await setPassword(token, account.password)).status).toBe(200);
    expect((await login(account.email, account.password)).status).toBe(200);

    const again = await setPassword(token, "yet another passphrase 7");
    expect(again.status).toBe(400);
    expect(again.error!.data.fieldErrors).toHaveProperty("token");
    expect((await login(account.email, "yet another passphrase 7")).status).toBe(401);
    expect((await login(account.email, account.password)).status).toBe(200);
  });

  it("keeps the link working for days, and refuses it after 7 without changing anything", async () => {
    const early = await createAccount();
    const late = await createAccount();
    const hashBefore = (await t.models.User.findByPk(late.user.id))!.passwordHash;
    // The whole process (server included) moves on in time; real timers keep running.
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });

    vi.setSystemTime(Date.now() + 6 * DAY_MS);
    expect((await setPassword(early.token, early.account.password)).status).toBe(200);

    vi.setSystemTime(Date.now() + DAY_MS + 60_000);
    const expired = await setPassword(late.token, late.account.password);
    expect(expired.status).toBe(400);
    expect(expired.error!.data.fieldErrors).toHaveProperty("token");
    expect((await t.models.User.findByPk(late.user.id))!.passwordHash).toBe(hashBefore);
    expect((await login(late.account.email, late.account.password)).status).toBe(401);
  });

  it("refuses a taken address or username with 409 on that field, creating and mailing nothing", async () => {
    const { account: member } = await createUser(t);
    const users = await t.models.User.count();
    const fresh = newAccount("made");

    const sameEmail = await create(admin.client, {
      email: `  ${member.email.toUpperCase()} `,
      username: fresh.username,
    });
    expect(sameEmail.status).toBe(409);
    expect(sameEmail.error!.data.fieldErrors).toHaveProperty("email");

    // Names are one name whatever their case.
    const sameName = await create(admin.client, { email: fresh.email, username: member.username.toUpperCase() });
    expect(sameName.status).toBe(409);
    expect(sameName.error!.data.fieldErrors).toHaveProperty("username");

    expect(await t.models.User.count()).toBe(users);
    await t.server.runtime.deps.mailer.settled();
    expect(t.smtp.to(fresh.email)).toHaveLength(0);
    expect(t.smtp.to(member.email).filter((m) => /account is ready/i.test(m.subject))).toHaveLength(0);
  });

  it("takes over an address whose sign-up was never confirmed, and that sign-up's code dies", async () => {
    const pending = newAccount("pending");
    expect((await t.client().mutation("auth.register", pending)).status).toBe(200);
    const code = codeFrom(await t.smtp.waitFor(pending.email, /code/i));

    const chosen = newAccount("made");
    const user = ok(await create(admin.client, { email: pending.email, username: chosen.username }));
    expect(user).toMatchObject({ email: pending.email, username: chosen.username, verified: true });
    const token = tokenOf(await t.smtp.waitFor(pending.email, /account is ready/i));

    expect((await t.client().mutation("auth.verifyEmail", { email: pending.email, code })).status).toBe(400);
    expect((await login(pending.email, pending.password)).status).toBe(401);
    expect((await setPassword(token, chosen.password)).status).toBe(200);
    expect((await login(pending.email, chosen.password)).status).toBe(200);
  });

  it("answers 400 with the field for a bad address, username or role", async () => {
    const users = await t.models.User.count();
    const fresh = newAccount("made");
    for (const [input, fieldName] of [
      [{ email: "not an address", username: fresh.username }, "email"],
      [{ email: "Someone <a@example.test>", username: fresh.username }, "email"],
      [{ username: fresh.username }, "email"],
      [{ email: fresh.email, username: "x" }, "username"],
      [{ email: fresh.email, username: "has space" }, "username"],
      [{ email: fresh.email, username: fresh.username, role: "owner" }, "role"],
    ] as const) {
      const res = await create(admin.client, input);
      expect(res.status, JSON.stringify(input)).toBe(400);
      expect(res.error!.data.fieldErrors, JSON.stringify(input)).toHaveProperty(fieldName);
    }
    expect(await t.models.User.count()).toBe(users);
  });

  it("is refused to members (403) and to strangers (401), creating nothing", async () => {
    const { client: member } = await signedIn(t);
    const users = await t.models.User.count();
    const fresh = newAccount("made");
    const input = { email: fresh.email, username: fresh.username, role: "admin" };
    expect((await create(member, input)).status).toBe(403);
    expect((await create(t.client(), input)).status).toBe(401);
    expect(await t.models.User.count()).toBe(users);
    await t.server.runtime.deps.mailer.settled();
    expect(t.smtp.to(fresh.email)).toHaveLength(0);
  });

  it("shows the creation in the audit log: who, for whom, with which role", async () => {
    const { account, user } = await createAccount("admin");
    const stored = await auditRows(t, { action: "user_created", targetUserId: user.id });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ actorId: admin.user.id, targetEmail: account.email, details: { role: "admin" } });

    const listed = ok(
      await admin.client.query<Page<AuditEntry>>("admin.audit.list", { action: "user_created", userId: user.id }),
    );
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]).toMatchObject({
      action: "user_created",
      actorEmail: admin.account.email,
      targetUserId: user.id,
      targetEmail: account.email,
    });
  });
});
