// Two-factor sign-in with TOTP through the real server: the codes are computed here, from the
// secret the set-up gives, with RFC 6238 written out on node:crypto (not the server's library).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import { createUser, signIn, startTestServer, type TestServer } from "../support/server";
import { base32Decode, totp } from "../support/totp";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

type Setup = { secret: string; otpauthUrl: string };
type Codes = { recoveryCodes: string[] };
type LoginAnswer = { status: string; challenge?: string; user?: { id: string; twoFactorEnabled: boolean } };

/** A signed-in account with two-factor sign-in turned on; its secret and recovery codes. */
async function withTwoFactor() {
  const { user, account } = await createUser(t);
  const client = await signIn(t, account);
  const { secret, otpauthUrl } = (await client.mutation<Setup>("auth.totp.setup")).data;
  expect(otpauthUrl).toMatch(/^otpauth:\/\/totp\/Notebox:/);
  expect(new URL(otpauthUrl).searchParams.get("secret")).toBe(secret);
  const enabled = await client.mutation<Codes>("auth.totp.enable", { code: totp(secret) });
  expect(enabled.status).toBe(200);
  return { user, account, client, secret, recoveryCodes: enabled.data.recoveryCodes };
}

/** The first step of a sign-in of an account with 2FA on: the challenge, and no session. */
async function challengeFor(account: { email: string; password: string }, client: TestClient = t.client()) {
  const res = await client.mutation<LoginAnswer>("auth.login", { email: account.email, password: account.password });
  expect(res.status).toBe(200);
  expect(res.data.status).toBe("second_factor_required");
  expect(client.sessionToken).toBeUndefined();
  return { client, challenge: res.data.challenge! };
}

/** Waits for the next 30-second step, so a code for it has not been used yet. */
async function nextStep() {
  const ms = 30_000 - (Date.now() % 30_000) + 50;
  await new Promise((r) => setTimeout(r, ms));
}

describe("turning two-factor sign-in on", () => {
  it("needs a valid code from the new key, gives 10 recovery codes once, and says so by mail", async () => {
    const { user, account } = await createUser(t);
    const client = await signIn(t, account);
    expect((await client.query<{ twoFactorEnabled: boolean }>("auth.me")).data.twoFactorEnabled).toBe(false);
    // Enabling before a set-up, or with a wrong code, is refused.
    expect((await client.mutation("auth.totp.enable", { code: "123456" })).error!.data.reason).toBe(
      "two_factor_not_set_up",
    );
    const { secret } = (await client.mutation<Setup>("auth.totp.setup")).data;
    expect(base32Decode(secret)).toHaveLength(20);
    const wrong = await client.mutation("auth.totp.enable", { code: totp(secret, 5) });
    expect(wrong.status).toBe(400);
    expect(wrong.error!.data.fieldErrors).toHaveProperty("code");
    for (const bad of ["12345", "abcdef", "1234567", ""]) {
      expect((await client.mutation("auth.totp.enable", { code: bad })).status).toBe(400);
    }

    const { data } = await client.mutation<Codes>("auth.totp.enable", { code: totp(secret) });
    expect(data.recoveryCodes).toHaveLength(10);
    expect(new Set(data.recoveryCodes).size).toBe(10);
    for (const code of data.recoveryCodes) expect(code).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
    expect(await t.smtp.waitFor(account.email, /two-factor sign-in is on/i)).toBeTruthy();
    // Stored encrypted and hashed: neither the key nor a code is in the database as given.
    const row = await t.models.User.findByPk(user.id);
    expect(row!.totpSecret).not.toContain(secret);
    expect(row!.totpSecret).toMatch(/^v1\./);
    const stored = await t.models.RecoveryCode.findAll({ where: { userId: user.id } });
    expect(stored).toHaveLength(10);
    for (const code of data.recoveryCodes) {
      expect(stored.some((r) => r.codeHash.includes(code.replace("-", "")))).toBe(false);
    }
    expect(await client.query("auth.totp.status")).toMatchObject({ data: { enabled: true, recoveryCodesLeft: 10 } });
    expect((await client.query<{ twoFactorEnabled: boolean }>("auth.me")).data.twoFactorEnabled).toBe(true);
    // A second set-up while on is refused.
    expect((await client.mutation("auth.totp.setup")).status).toBe(409);
  });

  it("is the account's own business: every procedure needs a session", async () => {
    const anonymous = t.client();
    for (const [path, input] of [
      ["auth.totp.setup", undefined],
      ["auth.totp.enable", { code: "123456" }],
      ["auth.totp.disable", { password: "x", code: "123456" }],
      ["auth.totp.regenerateRecoveryCodes", { code: "123456" }],
    ] as const) {
      expect((await anonymous.mutation(path, input)).status, path).toBe(401);
    }
    expect((await anonymous.query("auth.totp.status")).status).toBe(401);
  });
});

describe("signing in with two-factor on", () => {
  it("asks for a code after the password, and the code of this, the previous or the next step signs in", async () => {
    const { account, secret } = await withTwoFactor();
    for (const offset of [-1, 0, 1]) {
      // Each step's code once: the one of enable (step 0) was already used, so wait for fresh steps.
      if (offset === 0) await nextStep();
      const { client, challenge } = await challengeFor(account);
      const res = await client.mutation<LoginAnswer>("auth.loginSecondFactor", {
        challenge,
        code: totp(secret, offset),
      });
      if (offset === -1) {
        // The previous step is at or before the step enable accepted: a replay, refused.
        expect(res.status).toBe(401);
        continue;
      }
      expect(res.status, `offset ${offset}`).toBe(200);
      expect(res.data).toMatchObject({ status: "signed_in", user: { twoFactorEnabled: true } });
      expect(client.sessionToken).toBeDefined();
      expect((await client.query("auth.me")).status).toBe(200);
    }
  }, 70_000);

  it("refuses codes two steps away, a replayed code, and a challenge past 5 tries", async () => {
    const { account, secret } = await withTwoFactor();
    await nextStep();
    const first = await challengeFor(account);
    for (const offset of [-2, 2]) {
      const res = await first.client.mutation("auth.loginSecondFactor", {
        challenge: first.challenge,
        code: totp(secret, offset),
      });
      expect(res.status).toBe(401);
      expect(res.error!.data.reason).toBe("wrong_second_factor");
    }
    const ok = await first.client.mutation("auth.loginSecondFactor", {
      challenge: first.challenge,
      code: totp(secret),
    });
    expect(ok.status).toBe(200);
    // The same challenge is used up; the same code on a new challenge is a replay.
    expect(
      (await first.client.mutation("auth.loginSecondFactor", { challenge: first.challenge, code: totp(secret) })).error!
        .data.reason,
    ).toBe("challenge_expired");
    const second = await challengeFor(account);
    expect(
      (await second.client.mutation("auth.loginSecondFactor", { challenge: second.challenge, code: totp(secret) }))
        .status,
    ).toBe(401);

    // Five wrong answers end the challenge: even the right code is then refused.
    const third = await challengeFor(account);
    for (let i = 0; i < 5; i++) {
      await third.client.mutation("auth.loginSecondFactor", { challenge: third.challenge, code: "000000" });
    }
    const late = await third.client.mutation("auth.loginSecondFactor", {
      challenge: third.challenge,
      code: totp(secret, 1),
    });
    expect(late.status).toBe(401);
    expect(late.error!.data.reason).toBe("challenge_expired");
    expect(third.client.sessionToken).toBeUndefined();
  }, 40_000);

  it("ends a challenge after 5 minutes", async () => {
    const { account, secret } = await withTwoFactor();
    const { client, challenge } = await challengeFor(account);
    await t.models.SignInChallenge.update({ expiresAt: new Date(Date.now() - 1) }, { where: {} });
    const res = await client.mutation("auth.loginSecondFactor", { challenge, code: totp(secret, 1) });
    expect(res.status).toBe(401);
    expect(res.error!.data.reason).toBe("challenge_expired");
    for (const bad of [{ challenge }, { challenge, code: "123456", recoveryCode: "abcde-fghij" }, { challenge: "x" }]) {
      expect((await client.mutation("auth.loginSecondFactor", bad)).status).toBe(400);
    }
  });

  it("takes each recovery code once, typed however it was copied", async () => {
    const { account, recoveryCodes, client: owner } = await withTwoFactor();
    const [code] = recoveryCodes;
    const { client, challenge } = await challengeFor(account);
    const res = await client.mutation<LoginAnswer>("auth.loginSecondFactor", {
      challenge,
      recoveryCode: ` ${code!.toUpperCase().replace("-", " ")} `,
    });
    expect(res.status).toBe(200);
    const again = await challengeFor(account);
    expect(
      (await again.client.mutation("auth.loginSecondFactor", { challenge: again.challenge, recoveryCode: code }))
        .status,
    ).toBe(401);
    expect((await owner.query<{ recoveryCodesLeft: number }>("auth.totp.status")).data.recoveryCodesLeft).toBe(9);
  });

  it("keeps a disabled account out even with the right code", async () => {
    const { user, account, secret } = await withTwoFactor();
    const { client, challenge } = await challengeFor(account);
    await t.models.User.update({ disabledAt: new Date() }, { where: { id: user.id } });
    expect((await client.mutation("auth.loginSecondFactor", { challenge, code: totp(secret, 1) })).status).toBe(401);
  });
});

describe("changing two-factor sign-in", () => {
  it("regenerates recovery codes with a code, and the old ones stop working", async () => {
    const { account, client, secret, recoveryCodes } = await withTwoFactor();
    expect((await client.mutation("auth.totp.regenerateRecoveryCodes", { code: "000000" })).status).toBe(400);
    const renewed = await client.mutation<Codes>("auth.totp.regenerateRecoveryCodes", { code: totp(secret, 1) });
    expect(renewed.status).toBe(200);
    expect(renewed.data.recoveryCodes).toHaveLength(10);
    expect(renewed.data.recoveryCodes).not.toContain(recoveryCodes[0]);
    expect(await t.smtp.waitFor(account.email, /new recovery codes/i)).toBeTruthy();
    const { client: other, challenge } = await challengeFor(account);
    expect((await other.mutation("auth.loginSecondFactor", { challenge, recoveryCode: recoveryCodes[0] })).status).toBe(
      401,
    );
  });

  it("turns off with the password and a code, after which the password alone signs in", async () => {
    const { account, client, secret } = await withTwoFactor();
    const wrongPassword = await client.mutation("auth.totp.disable", {
      password: "not it at all",
      code: totp(secret, 1),
    });
    expect(wrongPassword.status).toBe(400);
    expect(wrongPassword.error!.data.fieldErrors).toHaveProperty("password");
    const wrongCode = await client.mutation("auth.totp.disable", { password: account.password, code: "000000" });
    expect(wrongCode.status).toBe(400);
    expect(wrongCode.error!.data.fieldErrors).toHaveProperty("code");
    const off = await client.mutation("auth.totp.disable", { password: account.password, code: totp(secret, 1) });
    expect(off.status).toBe(200);
    expect(await t.smtp.waitFor(account.email, /turned off/i)).toBeTruthy();
    const plain = await t.client().mutation<LoginAnswer>("auth.login", account);
    expect(plain.data).toMatchObject({ status: "signed_in", user: { twoFactorEnabled: false } });
    expect(await client.query("auth.totp.status")).toMatchObject({ data: { enabled: false, recoveryCodesLeft: 0 } });
  });
});
