// Sign-in throttling with the real limits: strangers' wrong guesses never lock the owner out,
// parallel guesses cannot outrun the limit, a flood gets 429 at once instead of a place in the
// hashing queue, and per-address limits count an IPv6 client by its /64.
import { defaultLimitRules } from "@notebox/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser, signIn, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  // Real limits; the client address comes from X-Forwarded-For so a test can speak from several.
  t = await startTestServer({ limitRules: defaultLimitRules, env: { TRUST_PROXY: "true" } });
});
afterAll(() => t.close());

let nextAddress = 1;
/** A fresh client at an address no other test used. */
const stranger = (address = `203.0.113.${nextAddress++}`) => t.client({ headers: { "x-forwarded-for": address } });

const login = (client: ReturnType<typeof stranger>, email: string, password: string) =>
  client.mutation("auth.login", { email, password });

const failures = (userId: string) =>
  t.models.AuditEvent.count({ where: { action: "sign_in_failed", targetUserId: userId } });

describe("a stranger cannot lock the owner out", () => {
  it("lets the owner's known browser sign in after ten wrong passwords from the owner's own address", async () => {
    const { account, user } = await createUser(t);
    const address = `198.51.100.${nextAddress++}`;
    const owner = await signIn(t, account, stranger(address));
    expect(owner.cookies.get("notebox_device")).toBeTruthy();
    await owner.mutation("auth.logout");

    const attacker = stranger(address);
    for (let i = 0; i < 10; i++) expect((await login(attacker, account.email, `wrong ${i}`)).status).toBe(401);
    const refused = await login(attacker, account.email, account.password);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);

    const back = await login(owner, account.email, account.password);
    expect(back.status).toBe(200);
    expect(await t.models.Session.count({ where: { userId: user.id } })).toBe(1);
  });

  it("lets the owner sign in from another address, with no device cookie, while a stranger is locked out of one", async () => {
    const { account } = await createUser(t);
    const attacker = stranger();
    for (let i = 0; i < 12; i++) await login(attacker, account.email, `wrong ${i}`);
    expect((await login(attacker, account.email, account.password)).status).toBe(429);
    expect((await login(stranger(), account.email, account.password)).status).toBe(200);
  });

  it("slows the account down for unknown browsers only past 100 failures from many addresses, and never for a known one", async () => {
    const { account } = await createUser(t);
    const owner = await signIn(t, account, stranger());
    const threshold = defaultLimitRules.loginFailuresPerAccount.points;
    const guesses = await Promise.all(
      Array.from({ length: threshold }, (_, i) =>
        login(stranger(`10.${Math.floor(i / 250)}.${i % 250}.7`), account.email, `wrong ${i}`),
      ),
    );
    expect(guesses.every((g) => g.status === 401 || g.status === 429)).toBe(true);
    expect(guesses.filter((g) => g.status === 401).length).toBeGreaterThan(threshold / 2);
    // Keep guessing from fresh addresses until the account-wide count is reached.
    for (let i = 0; i < threshold; i++) {
      const res = await login(stranger(`10.9.${i}.9`), account.email, `more ${i}`);
      if (res.status === 429) break;
    }
    expect((await login(stranger(), account.email, account.password)).status).toBe(429);
    expect((await login(owner, account.email, account.password)).status).toBe(200);
  });

  it("still limits a known browser's own wrong guesses", async () => {
    const { account } = await createUser(t);
    const device = await signIn(t, account, stranger());
    for (let i = 0; i < defaultLimitRules.loginFailuresPerDevice.points; i++) {
      expect((await login(device, account.email, `wrong ${i}`)).status).toBe(401);
    }
    expect((await login(device, account.email, account.password)).status).toBe(429);
  });

  it("never refuses a password change to the signed-in owner because of strangers' failures", async () => {
    const { account, user } = await createUser(t);
    const owner = await signIn(t, account, stranger());
    const attacker = stranger();
    for (let i = 0; i < 15; i++) await login(attacker, account.email, `wrong ${i}`);
    const changed = await owner.mutation("auth.changePassword", {
      currentPassword: account.password,
      newPassword: `${account.password} renewed`,
    });
    expect(changed.status).toBe(200);
    const row = await t.models.User.findByPk(user.id);
    expect(row!.passwordChangedAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it("limits wrong current passwords per session, not per account", async () => {
    const { account } = await createUser(t);
    const guesser = await signIn(t, account, stranger());
    const owner = await signIn(t, account, stranger());
    for (let i = 0; i < defaultLimitRules.passwordChecksPerSession.points; i++) {
      const res = await guesser.mutation("auth.changePassword", {
        currentPassword: `wrong ${i}`,
        newPassword: "a brand new passphrase",
      });
      expect(res.status).toBe(400);
    }
    const blocked = await guesser.mutation("auth.changePassword", {
      currentPassword: account.password,
      newPassword: "a brand new passphrase",
    });
    expect(blocked.status).toBe(429);
    const changed = await owner.mutation("auth.changePassword", {
      currentPassword: account.password,
      newPassword: "a brand new passphrase",
    });
    expect(changed.status).toBe(200);
  });
});

describe("parallel guesses", () => {
  it("check at most ten passwords of 60 sent at once, and the right one sent after them is refused", async () => {
    const { account, user } = await createUser(t);
    const attacker = stranger();
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => login(attacker, account.email, `wrong ${i}`)),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(
      defaultLimitRules.loginFailuresPerAccountIp.points,
    );
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(await failures(user.id)).toBeLessThanOrEqual(defaultLimitRules.loginFailuresPerAccountIp.points);
    const right = await login(attacker, account.email, account.password);
    expect(right.status).toBe(429);
    expect(await t.models.Session.count({ where: { userId: user.id } })).toBe(0);
  });
});

describe("a sign-in flood", () => {
  it("is answered 429 at once past one address's share of the hashing, while another address signs in", async () => {
    const { account } = await createUser(t);
    const flooder = `192.0.2.${nextAddress++}`;
    const flood = Promise.all(
      Array.from({ length: 40 }, () => login(stranger(flooder), account.email, account.password)),
    );
    const other = await login(stranger(), account.email, account.password);
    const answers = await flood;
    expect(other.status).toBe(200);
    const busy = answers.filter((a) => a.status === 429);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy.every((a) => Number(a.headers.get("retry-after")) > 0)).toBe(true);
    expect(answers.every((a) => a.status === 200 || a.status === 429)).toBe(true);
  });
});

describe("client addresses", () => {
  it("counts the addresses of one IPv6 /64 as one client, and another /64 apart", async () => {
    const { account } = await createUser(t);
    for (let i = 0; i < 10; i++) {
      expect((await login(stranger(`2001:db8:1:2::${(i + 1).toString(16)}`), account.email, `wrong ${i}`)).status).toBe(
        401,
      );
    }
    expect((await login(stranger("2001:db8:1:2:ffff:ffff:ffff:fffe"), account.email, account.password)).status).toBe(
      429,
    );
    expect((await login(stranger("2001:db8:1:3::1"), account.email, account.password)).status).toBe(200);
  });

  it("counts an IPv4-mapped IPv6 address as the IPv4 address", async () => {
    const { account } = await createUser(t);
    for (let i = 0; i < 10; i++) {
      expect((await login(stranger("::ffff:198.18.0.1"), account.email, `wrong ${i}`)).status).toBe(401);
    }
    expect((await login(stranger("198.18.0.1"), account.email, account.password)).status).toBe(429);
  });
});
