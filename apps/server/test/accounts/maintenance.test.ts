import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken, purgeExpired } from "@notebox/core";
import { createUser, newAccount, signIn, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

describe("purge of expired rows", () => {
  it("removes expired sessions, stale codes and week-old unconfirmed sign-ups, and keeps live ones", async () => {
    const { account, user } = await createUser(t);
    const live = await signIn(t, account);
    const dead = await signIn(t, account);
    await t.models.Session.update(
      { expiresAt: new Date(Date.now() - 1000) },
      { where: { id: hashToken(dead.sessionToken!) } },
    );

    const pending = newAccount();
    await t.client().mutation("auth.register", pending);
    const stale = newAccount();
    await t.client().mutation("auth.register", stale);
    const weekAgo = new Date(Date.now() - 8 * 24 * 60 * 60 * 1000);
    await t.models.User.update({ createdAt: weekAgo }, { where: { email: stale.email } });
    await t.models.EmailCode.update({ expiresAt: weekAgo }, { where: { email: stale.email } });

    const removed = await purgeExpired({ deps: t.server.runtime.deps });
    expect(removed.sessions).toBeGreaterThanOrEqual(1);
    expect(removed.unverifiedUsers).toBeGreaterThanOrEqual(1);

    expect(await t.models.Session.count({ where: { userId: user.id } })).toBe(1);
    expect((await live.query("auth.me")).data).not.toBeNull();
    expect(await t.models.User.count({ where: { email: stale.email } })).toBe(0);
    expect(await t.models.EmailCode.count({ where: { email: stale.email } })).toBe(0);
    expect(await t.models.User.count({ where: { email: pending.email } })).toBe(1);
    expect(await t.models.EmailCode.count({ where: { email: pending.email } })).toBe(1);
  });
});
