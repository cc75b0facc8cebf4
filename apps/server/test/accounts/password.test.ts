import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "@notebox/core";
import { resetLinkFrom } from "../support/smtp";
import { createUser, newAccount, signIn, signUp, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ env: { PUBLIC_URL: "http://notes.example.test:8080" } });
});
afterAll(() => t.close());

const tokenOf = (link: string) => new URL(link).hash.replace("#token=", "");

async function requestReset(email: string) {
  const res = await t.client().mutation("auth.requestPasswordReset", { email });
  expect(res.status).toBe(200);
  return resetLinkFrom(await t.smtp.waitFor(email, /reset/i));
}

describe("password reset", () => {
  it("answers the same for unknown addresses and mails nothing", async () => {
    const { account } = await createUser(t);
    const unknown = newAccount().email;
    const a = await t.client().mutation("auth.requestPasswordReset", { email: account.email });
    const b = await t.client().mutation("auth.requestPasswordReset", { email: unknown });
    expect(a.status).toBe(b.status);
    expect(a.data).toEqual(b.data);
    await t.smtp.waitFor(account.email, /reset/i);
    expect(t.smtp.to(unknown)).toHaveLength(0);
  });

  it("mails a link built from PUBLIC_URL with a 128+ bit token stored only as a hash", async () => {
    const { account, user } = await createUser(t);
    const link = await requestReset(account.email);
    expect(link.startsWith("http://notes.example.test:8080/reset-password#token=")).toBe(true);
    const token = tokenOf(link);
    expect(token.length * 5).toBeGreaterThanOrEqual(128);
    const rows = await t.models.PasswordResetToken.findAll({ where: { userId: user.id } });
    expect(rows.map((r) => r.id)).toEqual([hashToken(token)]);
    expect(rows[0]!.expiresAt.getTime() - rows[0]!.createdAt.getTime()).toBe(60 * 60 * 1000);
  });

  it("ignores the Host header when building the link", async () => {
    const { account } = await createUser(t);
    const res = await t.client().fetch("/api/v1/trpc/auth.requestPasswordReset", {
      method: "POST",
      headers: { "content-type": "application/json", host: "evil.example", "x-forwarded-host": "evil.example" },
      body: JSON.stringify({ email: account.email }),
    });
    expect(res.status).toBe(200);
    const link = resetLinkFrom(await t.smtp.waitFor(account.email, /reset/i));
    expect(new URL(link).host).toBe("notes.example.test:8080");
  });

  it("sets a new password, ends every session, and works only once", async () => {
    const { account, user } = await createUser(t);
    const laptop = await signIn(t, account);
    const phone = await signIn(t, account);
    const before = await t.models.User.findByPk(user.id);
    const token = tokenOf(await requestReset(account.email));

    const newPassword = "a brand new passphrase 42";
    const res = await t.client().mutation("auth.resetPassword", { token, password: newPassword });
    expect(res.status).toBe(200);
    expect(await t.models.Session.count({ where: { userId: user.id } })).toBe(0);
    expect((await laptop.query("auth.me")).data).toBeNull();
    expect((await phone.query("auth.me")).data).toBeNull();
    const after = await t.models.User.findByPk(user.id);
    expect(after!.passwordHash).not.toBe(before!.passwordHash);
    expect(after!.tokensValidAfter.getTime()).toBeGreaterThan(before!.tokensValidAfter.getTime());

    const again = await t.client().mutation("auth.resetPassword", { token, password: "yet another passphrase 7" });
    expect(again.status).toBe(400);
    expect(again.error?.data.fieldErrors?.token).toBeDefined();
    expect((await t.models.User.findByPk(user.id))!.passwordHash).toBe(after!.passwordHash);

    expect((await t.client().mutation("auth.login", { email: account.email, password: account.password })).status).toBe(
      401,
    );
    expect((await t.client().mutation("auth.login", { email: account.email, password: newPassword })).status).toBe(200);
  });

  it("refuses an expired link and changes nothing", async () => {
    const { account, user } = await createUser(t);
    const token = tokenOf(await requestReset(account.email));
    await t.models.PasswordResetToken.update({ expiresAt: new Date(Date.now() - 1) }, { where: { userId: user.id } });
    const before = (await t.models.User.findByPk(user.id))!.passwordHash;
    const res = await t.client().mutation("auth.resetPassword", { token, password: "a brand new passphrase 42" });
    expect(res.status).toBe(400);
    expect((await t.models.User.findByPk(user.id))!.passwordHash).toBe(before);
  });

  it("kills an outstanding link once the password changes another way", async () => {
    const { account, user } = await createUser(t);
    const token = tokenOf(await requestReset(account.email));
    const client = await signIn(t, account);
    const changed = await client.mutation("auth.changePassword", {
      currentPassword: account.password,
      newPassword: "changed while a link was out",
    });
    expect(changed.status).toBe(200);
    const res = await t.client().mutation("auth.resetPassword", { token, password: "a brand new passphrase 42" });
    expect(res.status).toBe(400);
    expect(await t.models.PasswordResetToken.count({ where: { userId: user.id } })).toBe(0);
  });

  it("only the newest link works", async () => {
    const limitedEmail = (await createUser(t)).account.email;
    const first = tokenOf(await requestReset(limitedEmail));
    const second = tokenOf(await requestReset(limitedEmail));
    expect(
      (await t.client().mutation("auth.resetPassword", { token: first, password: "a brand new passphrase 42" })).status,
    ).toBe(400);
    expect(
      (await t.client().mutation("auth.resetPassword", { token: second, password: "a brand new passphrase 42" }))
        .status,
    ).toBe(200);
  });

  it("refuses a common new password with a field message", async () => {
    const { account } = await createUser(t);
    const token = tokenOf(await requestReset(account.email));
    const res = await t.client().mutation("auth.resetPassword", { token, password: "iloveyou" });
    expect(res.status).toBe(400);
    expect(res.error?.data.fieldErrors?.password?.[0]).toMatch(/common/);
  });
});

describe("change password", () => {
  it("needs the current password and changes nothing without it", async () => {
    const { account, user } = await createUser(t);
    const client = await signIn(t, account);
    const before = (await t.models.User.findByPk(user.id))!.passwordHash;
    const res = await client.mutation("auth.changePassword", {
      currentPassword: "not my password",
      newPassword: "a brand new passphrase 42",
    });
    expect(res.status).toBe(400);
    expect(res.error?.data.fieldErrors?.currentPassword).toBeDefined();
    expect((await t.models.User.findByPk(user.id))!.passwordHash).toBe(before);
    expect((await client.query("auth.me")).data).not.toBeNull();
  });

  it("ends every other session, keeps this device signed in with a new token, and mails a notice", async () => {
    const { client, account, user } = await signUp(t);
    const other = await signIn(t, account);
    const oldToken = client.sessionToken!;
    const res = await client.mutation("auth.changePassword", {
      currentPassword: account.password,
      newPassword: "a brand new passphrase 42",
    });
    expect(res.status).toBe(200);
    // No API keys to revoke here; test/security/credentials.test.ts covers the ones that are.
    expect(res.data).toEqual({ status: "password_changed", revokedApiKeys: [] });
    expect(client.sessionToken).not.toBe(oldToken);
    expect((await client.query("auth.me")).data).toMatchObject({ id: user.id });
    expect((await other.query("auth.me")).data).toBeNull();
    expect(await t.models.Session.count({ where: { userId: user.id } })).toBe(1);
    await t.smtp.waitFor(account.email, /changed/i);
  });

  it("is refused when signed out", async () => {
    const res = await t.client().mutation("auth.changePassword", {
      currentPassword: "whatever it is",
      newPassword: "a brand new passphrase 42",
    });
    expect(res.status).toBe(401);
  });
});
