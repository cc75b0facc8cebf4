import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { hashToken, SESSION_RENEW_UNDER_MS, SESSION_TTL_MS } from "@notebox/core";
import { createUser, newAccount, relaxedLimits, signIn, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

describe("sign-in", () => {
  it("signs in with the right password and stores only the token's hash", async () => {
    const { user, account } = await createUser(t);
    const client = await signIn(t, account);
    const token = client.sessionToken!;
    expect(token).toMatch(/^[a-z2-7]{32}$/);
    const sessions = await t.models.Session.findAll({ where: { userId: user.id } });
    expect(sessions.map((s) => s.id)).toEqual([hashToken(token)]);
    expect(sessions[0]!.id).not.toContain(token);
    const ttl = sessions[0]!.expiresAt.getTime() - sessions[0]!.createdAt.getTime();
    expect(ttl).toBe(SESSION_TTL_MS);
    expect((await client.query("auth.me")).data).toMatchObject({ id: user.id });
  });

  it("gives the same answer for an unknown address and a wrong password", async () => {
    const { account } = await createUser(t);
    const wrong = await t.client().mutation("auth.login", { email: account.email, password: "not the password" });
    const unknown = await t
      .client()
      .mutation("auth.login", { email: newAccount().email, password: "not the password" });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.error?.message).toBe(unknown.error?.message);
    expect(wrong.setCookies).toEqual([]);
  });

  it("spends similar time on an unknown address as on a wrong password", async () => {
    const { account } = await createUser(t);
    const time = async (email: string) => {
      const started = performance.now();
      await t.client().mutation("auth.login", { email, password: "not the password" });
      return performance.now() - started;
    };
    await time(account.email); // warm the dummy hash
    const samples = { known: [] as number[], unknown: [] as number[] };
    for (let i = 0; i < 5; i++) {
      samples.known.push(await time(account.email));
      samples.unknown.push(await time(newAccount().email));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ratio = median(samples.unknown) / median(samples.known);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });

  it("refuses a disabled account even with the right password", async () => {
    const { account, user } = await createUser(t, { disabled: true });
    const client = t.client();
    const res = await client.mutation("auth.login", account);
    expect(res.status).toBe(403);
    expect(res.error?.data.reason).toBe("account_disabled");
    expect(await t.models.Session.count({ where: { userId: user.id } })).toBe(0);
  });

  it("cuts off a live session the moment its user is disabled", async () => {
    const { account, user } = await createUser(t);
    const client = await signIn(t, account);
    await t.models.User.update({ disabledAt: new Date() }, { where: { id: user.id } });
    const me = await client.query("auth.me");
    expect(me.data).toBeNull();
    const protectedCall = await client.query("auth.sessions.list");
    expect(protectedCall.status).toBe(401);
  });

  it("issues a new token on every sign-in and ends the browser's previous session", async () => {
    const { account, user } = await createUser(t);
    const client = await signIn(t, account);
    const first = client.sessionToken!;
    await signIn(t, account, client);
    const second = client.sessionToken!;
    expect(second).not.toBe(first);
    expect(await t.models.Session.findByPk(hashToken(first))).toBeNull();
    expect(await t.models.Session.findByPk(hashToken(second))).not.toBeNull();
    expect(await t.models.Session.count({ where: { userId: user.id } })).toBe(1);
  });

  it("logs out by deleting the session: the old token no longer works", async () => {
    const { account } = await createUser(t);
    const client = await signIn(t, account);
    const token = client.sessionToken!;
    const res = await client.mutation("auth.logout");
    expect(res.status).toBe(200);
    expect(res.setCookies.join()).toMatch(/Max-Age=0/);
    expect(await t.models.Session.findByPk(hashToken(token))).toBeNull();

    const replay = t.client();
    replay.cookies.set("notebox_session", token);
    expect((await replay.query("auth.me")).data).toBeNull();
  });

  it("refuses an expired session and removes it", async () => {
    const { account } = await createUser(t);
    const client = await signIn(t, account);
    const id = hashToken(client.sessionToken!);
    await t.models.Session.update({ expiresAt: new Date(Date.now() - 1) }, { where: { id } });
    expect((await client.query("auth.me")).data).toBeNull();
    expect(await t.models.Session.findByPk(id)).toBeNull();
  });

  it("slides the expiry forward when under 15 days remain, and not before", async () => {
    const { account } = await createUser(t);
    const client = await signIn(t, account);
    const id = hashToken(client.sessionToken!);

    const plenty = new Date(Date.now() + SESSION_RENEW_UNDER_MS + 60_000);
    await t.models.Session.update({ expiresAt: plenty }, { where: { id } });
    const untouched = await client.query("auth.me");
    expect(untouched.setCookies).toEqual([]);
    expect((await t.models.Session.findByPk(id))!.expiresAt.getTime()).toBe(plenty.getTime());

    await t.models.Session.update(
      { expiresAt: new Date(Date.now() + SESSION_RENEW_UNDER_MS - 60_000) },
      { where: { id } },
    );
    await t.server.runtime.deps.cache.forgetSessions([id]); // the cached validation still holds the old expiry
    const renewed = await client.query("auth.me");
    expect(renewed.setCookies.join()).toMatch(/notebox_session=/);
    const expiresAt = (await t.models.Session.findByPk(id))!.expiresAt.getTime();
    expect(expiresAt).toBeGreaterThan(Date.now() + SESSION_TTL_MS - 60_000);
  });

  it("normalizes the address: case and surrounding spaces do not matter", async () => {
    const { account } = await createUser(t);
    const res = await t
      .client()
      .mutation("auth.login", { email: `  ${account.email.toUpperCase()} `, password: account.password });
    expect(res.status).toBe(200);
  });
});

describe("sign-in throttling", () => {
  it("locks an account after 10 failures with 429 and Retry-After, even for the right password", async () => {
    const limited = await startTestServer({
      limitRules: { ...relaxedLimits, loginFailuresPerAccount: { points: 10, duration: 900 } },
    });
    try {
      const { account, user } = await createUser(limited);
      for (let i = 0; i < 10; i++) {
        const res = await limited.client().mutation("auth.login", { email: account.email, password: `wrong ${i}` });
        expect(res.status).toBe(401);
      }
      const locked = await limited.client().mutation("auth.login", account);
      expect(locked.status).toBe(429);
      expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(await limited.models.Session.count({ where: { userId: user.id } })).toBe(0);
      // another account is not affected
      const other = await createUser(limited);
      expect((await limited.client().mutation("auth.login", other.account)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it("limits sign-in attempts from one address across accounts", async () => {
    const limited = await startTestServer({
      limitRules: { ...relaxedLimits, loginPerIp: { points: 30, duration: 900 } },
    });
    try {
      for (let i = 0; i < 30; i++) {
        const res = await limited.client().mutation("auth.login", { email: newAccount().email, password: "whatever1" });
        expect(res.status).toBe(401);
      }
      const { account } = await createUser(limited);
      const blocked = await limited.client().mutation("auth.login", account);
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});

describe("a burst of sign-ins", () => {
  it("all succeed together and the database stays responsive meanwhile", async () => {
    // From 48 addresses: one address gets only its share of the hashing at once.
    const proxied = await startTestServer({ env: { TRUST_PROXY: "true" } });
    onTestFinished(() => proxied.close());
    const { account } = await createUser(proxied);
    const burst = Array.from({ length: 48 }, (_, i) =>
      proxied
        .client({ headers: { "x-forwarded-for": `198.51.100.${i + 1}` } })
        .mutation("auth.login", { email: account.email, password: account.password }),
    );
    // While they queue for the password hash and the write lock, reads are not held up.
    const started = performance.now();
    const ready = await fetch(`${proxied.url}/readyz`);
    const readyMs = performance.now() - started;
    const answers = await Promise.all(burst);
    expect(
      answers.filter((a) => a.status !== 200).map((a) => a.error),
      "refused sign-ins",
    ).toEqual([]);
    expect(ready.status).toBe(200);
    expect(readyMs).toBeLessThan(2_000);
  });
});
