// Checking a reset link before anyone types a password (auth.resetLinkInfo), through the real
// server: the same rule the reset applies, one refusal whatever the cause, never whose link it is.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "@notebox/core";
import type { CallResult } from "../support/client";
import { resetLinkFrom } from "../support/smtp";
import { createUser, signIn, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const tokenOf = (link: string) => new URL(link).hash.replace("#token=", "");

async function requestReset(email: string) {
  const res = await t.client().mutation("auth.requestPasswordReset", { email });
  expect(res.status).toBe(200);
  return tokenOf(resetLinkFrom(await t.smtp.waitFor(email, /reset/i)));
}

const linkInfo = (token: string) =>
  t.client().mutation<{ status: string; expiresAt: string }>("auth.resetLinkInfo", { token });

function expectLinkInvalid(res: CallResult) {
  expect(res.status).toBe(400);
  expect(res.error?.data.reason).toBe("link_invalid");
  expect(res.error?.data.fieldErrors?.token?.[0]).toMatch(/expired or was already used/);
}

/** Refused alike by the check and by the reset itself, and the password is left as it was. */
async function expectDead(token: string, user: { id: string; email: string; username: string }) {
  const before = (await t.models.User.findByPk(user.id))!.passwordHash;
  const info = await linkInfo(token);
  expectLinkInvalid(info);
  const reset = await t.client().mutation("auth.resetPassword", { token, password: "a brand new passphrase 42" });
  expectLinkInvalid(reset);
  expect(reset.error?.message).toBe(info.error?.message);
  expect((await t.models.User.findByPk(user.id))!.passwordHash).toBe(before);
  const said = JSON.stringify(info.error);
  expect(said).not.toContain(user.email);
  expect(said).not.toContain(user.username);
}

describe("auth.resetLinkInfo", () => {
  it("says a fresh link works and until when, names no one, and uses nothing up", async () => {
    const { account, user } = await createUser(t);
    const token = await requestReset(account.email);
    const row = (await t.models.PasswordResetToken.findByPk(hashToken(token)))!;

    const res = await linkInfo(token);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ status: "valid", expiresAt: row.expiresAt.toISOString() });
    expect(JSON.stringify(res.data)).not.toContain(account.email);
    expect((await linkInfo(token)).status).toBe(200);
    expect((await t.models.PasswordResetToken.findByPk(hashToken(token)))!.usedAt).toBeNull();

    const reset = await t.client().mutation("auth.resetPassword", { token, password: "a brand new passphrase 42" });
    expect(reset.status).toBe(200);
    await expectDead(token, user);
  });

  it("refuses an unknown link with the same answer as a used one", async () => {
    const { user } = await createUser(t);
    await expectDead("a".repeat(32), user);
  });

  it("refuses an expired link", async () => {
    const { account, user } = await createUser(t);
    const token = await requestReset(account.email);
    await t.models.PasswordResetToken.update({ expiresAt: new Date(Date.now() - 1) }, { where: { userId: user.id } });
    await expectDead(token, user);
  });

  it("refuses a link replaced by a newer one, and the newer one works", async () => {
    const { account, user } = await createUser(t);
    const first = await requestReset(account.email);
    const second = await requestReset(account.email);
    await expectDead(first, user);
    expect((await linkInfo(second)).status).toBe(200);
  });

  it("refuses a link once the password changed another way", async () => {
    const { account, user } = await createUser(t);
    const token = await requestReset(account.email);
    const client = await signIn(t, account);
    const changed = await client.mutation("auth.changePassword", {
      currentPassword: account.password,
      newPassword: "changed while a link was out",
    });
    expect(changed.status).toBe(200);
    await expectDead(token, user);
  });

  it("refuses a link older than the password even while its row is kept", async () => {
    const { account, user } = await createUser(t);
    const token = await requestReset(account.email);
    await t.models.User.update({ passwordChangedAt: new Date(Date.now() + 1000) }, { where: { id: user.id } });
    await expectDead(token, user);
  });

  it("refuses the link of a disabled account", async () => {
    const { account, user } = await createUser(t);
    const token = await requestReset(account.email);
    await t.models.User.update({ disabledAt: new Date() }, { where: { id: user.id } });
    await expectDead(token, user);
  });

  it("refuses a malformed token as not valid, with a field message", async () => {
    for (const token of ["", "short", "A".repeat(32), "a".repeat(33)]) {
      const res = await linkInfo(token);
      expect(res.status, token).toBe(400);
      expect(res.error?.data.fieldErrors?.token, token).toBeDefined();
    }
  });
});
