import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeFrom } from "../support/smtp";
import { newAccount, relaxedLimits, signUp, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const emailCodes = (email: string) => t.models.EmailCode.findAll({ where: { email }, order: [["createdAt", "ASC"]] });

describe("sign-up with an emailed code", () => {
  it("registers, mails a 6-digit code, and verifying it signs the person in", async () => {
    const client = t.client();
    const account = newAccount();
    const reg = await client.mutation("auth.register", account);
    expect(reg.status).toBe(200);
    expect(reg.data).toEqual({ status: "verification_sent" });
    expect(client.sessionToken).toBeUndefined();

    const pending = await t.models.User.findOne({ where: { email: account.email } });
    expect(pending?.emailVerifiedAt).toBeNull();
    expect(pending?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

    const mail = await t.smtp.waitFor(account.email, /code/i);
    const code = codeFrom(mail);
    expect(code).toMatch(/^\d{6}$/);
    const [row] = await emailCodes(account.email);
    expect(row!.codeHash).not.toContain(code);
    expect(row!.expiresAt.getTime() - row!.createdAt.getTime()).toBe(10 * 60 * 1000);

    const verified = await client.mutation<{ user: Record<string, unknown> }>("auth.verifyEmail", {
      email: account.email,
      code,
    });
    expect(verified.status).toBe(200);
    expect(verified.data.user).toMatchObject({ username: account.username, email: account.email, role: "user" });
    expect(Object.keys(verified.data.user).sort()).toEqual(["createdAt", "email", "id", "role", "username"]);
    expect(String(verified.data.user.id)).toMatch(/^[0-9a-f-]{36}$/);
    expect(client.sessionToken).toMatch(/^[a-z2-7]{32}$/);

    const me = await client.query("auth.me");
    expect(me.data).toMatchObject({ email: account.email });
    const user = await t.models.User.findOne({ where: { email: account.email } });
    expect(user?.emailVerifiedAt).toBeInstanceOf(Date);
  });

  it("refuses to sign in before the address is confirmed", async () => {
    const client = t.client();
    const account = newAccount();
    await client.mutation("auth.register", account);
    const res = await client.mutation("auth.login", { email: account.email, password: account.password });
    expect(res.status).toBe(403);
    expect(res.error?.data.reason).toBe("email_not_verified");
    expect(client.sessionToken).toBeUndefined();
    expect(
      await t.models.Session.count({
        where: { userId: (await t.models.User.findOne({ where: { email: account.email } }))!.id },
      }),
    ).toBe(0);
  });

  it("answers the same for an existing address and mails its owner an 'account exists' notice instead of a code", async () => {
    const { account } = await signUp(t);
    const before = await t.models.User.findOne({ where: { email: account.email } });
    const fresh = newAccount();

    const again = await t.client().mutation("auth.register", { ...fresh, email: account.email });
    const brandNew = await t.client().mutation("auth.register", fresh);
    expect(again.status).toBe(brandNew.status);
    expect(again.data).toEqual(brandNew.data);

    const notice = await t.smtp.waitFor(account.email, /already have/i);
    expect(notice.text).not.toMatch(/\b\d{6}\b/);
    const after = await t.models.User.findOne({ where: { email: account.email } });
    expect(after?.passwordHash).toBe(before?.passwordHash);
    expect(after?.username).toBe(before?.username);
  });

  it("refuses a taken username with a field message", async () => {
    const { account } = await signUp(t);
    const res = await t
      .client()
      .mutation("auth.register", { ...newAccount(), username: account.username.toUpperCase() });
    expect(res.status).toBe(409);
    expect(res.error?.data.fieldErrors?.username?.[0]).toMatch(/taken/);
  });

  it("refuses a common password", async () => {
    const res = await t.client().mutation("auth.register", { ...newAccount(), password: "qwertyuiop" });
    expect(res.status).toBe(400);
    expect(res.error?.data.fieldErrors?.password?.[0]).toMatch(/common/);
  });

  it("accepts a code just before it expires and refuses it at the expiry instant", async () => {
    for (const [offsetMs, expected] of [
      [2_000, 200],
      [0, 400],
      [-1, 400],
    ] as const) {
      const client = t.client();
      const account = newAccount();
      await client.mutation("auth.register", account);
      const code = codeFrom(await t.smtp.waitFor(account.email, /code/i));
      await t.models.EmailCode.update(
        { expiresAt: new Date(Date.now() + offsetMs) },
        { where: { email: account.email } },
      );
      const res = await client.mutation("auth.verifyEmail", { email: account.email, code });
      expect(res.status, `expiry offset ${offsetMs} ms`).toBe(expected);
      if (expected === 400) {
        expect(res.error?.data.fieldErrors?.code?.[0]).toMatch(/expired/);
        expect(client.sessionToken).toBeUndefined();
        const user = await t.models.User.findOne({ where: { email: account.email } });
        expect(user?.emailVerifiedAt).toBeNull();
      }
    }
  });

  it("refuses a sixth try after five wrong codes and kills the code", async () => {
    const client = t.client();
    const account = newAccount();
    await client.mutation("auth.register", account);
    const code = codeFrom(await t.smtp.waitFor(account.email, /code/i));
    const wrong = code === "000000" ? "111111" : "000000";
    for (let i = 1; i <= 5; i++) {
      const res = await client.mutation("auth.verifyEmail", { email: account.email, code: wrong });
      expect(res.status).toBe(400);
      const [row] = await emailCodes(account.email);
      expect(row!.attempts).toBe(i);
    }
    const [dead] = await emailCodes(account.email);
    expect(dead!.consumedAt).not.toBeNull();

    const sixth = await client.mutation("auth.verifyEmail", { email: account.email, code });
    expect(sixth.status).toBe(400);
    expect(client.sessionToken).toBeUndefined();
    expect((await t.models.User.findOne({ where: { email: account.email } }))?.emailVerifiedAt).toBeNull();
  });

  it("uses a code only once", async () => {
    const { client, account } = await signUp(t);
    const [row] = await emailCodes(account.email);
    expect(row!.consumedAt).not.toBeNull();
    await client.mutation("auth.logout");
    // the same (already used) code cannot sign in again
    const used = await client.mutation("auth.verifyEmail", { email: account.email, code: "123456" });
    expect(used.status).toBe(400);
    expect(client.sessionToken).toBeUndefined();
  });

  it("cancels the old code when a new one is sent", async () => {
    const client = t.client();
    const account = newAccount();
    await client.mutation("auth.register", account);
    const first = codeFrom(await t.smtp.waitFor(account.email, /code/i));
    const resend = await client.mutation("auth.resendCode", { email: account.email });
    expect(resend.status).toBe(200);
    const second = codeFrom(await t.smtp.waitFor(account.email, /code/i));

    const codes = await emailCodes(account.email);
    expect(codes).toHaveLength(2);
    expect(codes[0]!.consumedAt).not.toBeNull();
    expect(codes[1]!.consumedAt).toBeNull();

    if (first !== second) {
      const old = await client.mutation("auth.verifyEmail", { email: account.email, code: first });
      expect(old.status).toBe(400);
    }
    const ok = await client.mutation("auth.verifyEmail", { email: account.email, code: second });
    expect(ok.status).toBe(200);
  });

  it("answers resendCode the same for unknown and verified addresses, and sends nothing", async () => {
    const { account } = await signUp(t);
    const unknown = newAccount().email;
    const a = await t.client().mutation("auth.resendCode", { email: account.email });
    const b = await t.client().mutation("auth.resendCode", { email: unknown });
    expect(a.status).toBe(200);
    expect(a.data).toEqual(b.data);
    // Whatever these requests queued has reached the SMTP server once the mailer has settled.
    await t.server.runtime.deps.mailer.settled();
    expect(t.smtp.to(unknown)).toHaveLength(0);
    expect(await t.models.EmailCode.count({ where: { email: unknown } })).toBe(0);
  });
});

describe("resend limits", () => {
  it("allows one message a minute per address and answers 429 with Retry-After", async () => {
    const limited = await startTestServer({
      limitRules: { ...relaxedLimits, mailPerAddressMinute: { points: 1, duration: 60 } },
    });
    try {
      const client = limited.client();
      const account = newAccount();
      expect((await client.mutation("auth.register", account)).status).toBe(200);
      const res = await client.mutation("auth.resendCode", { email: account.email });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(Number(res.headers.get("retry-after"))).toBeLessThanOrEqual(60);
      expect(res.error?.data.retryAfterSeconds).toBeGreaterThan(0);
      expect(await limited.models.EmailCode.count({ where: { email: account.email } })).toBe(1);
    } finally {
      await limited.close();
    }
  });

  it("allows five messages an hour per address", async () => {
    const limited = await startTestServer({
      limitRules: { ...relaxedLimits, mailPerAddressHour: { points: 5, duration: 3600 } },
    });
    try {
      const client = limited.client();
      const account = newAccount();
      expect((await client.mutation("auth.register", account)).status).toBe(200);
      for (let i = 0; i < 4; i++)
        expect((await client.mutation("auth.resendCode", { email: account.email })).status).toBe(200);
      const sixth = await client.mutation("auth.resendCode", { email: account.email });
      expect(sixth.status).toBe(429);
      expect(Number(sixth.headers.get("retry-after"))).toBeGreaterThan(60);
      expect(await limited.models.EmailCode.count({ where: { email: account.email } })).toBe(5);
    } finally {
      await limited.close();
    }
  });
});
