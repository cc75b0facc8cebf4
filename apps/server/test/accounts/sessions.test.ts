import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "@notebox/core";
import { createUser, signIn, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

interface SessionItem {
  id: string;
  current: boolean;
  userAgent: string | null;
  ip: string | null;
  createdAt: string;
}

describe("sessions", () => {
  it("lists the user's own sessions with the current one marked", async () => {
    const { account } = await createUser(t);
    const laptop = await signIn(t, account, t.client({ headers: { "user-agent": "Laptop Firefox" } }));
    await signIn(t, account, t.client({ headers: { "user-agent": "Phone Safari" } }));
    const other = await createUser(t);
    await signIn(t, other.account);

    const res = await laptop.query<{ items: SessionItem[]; nextCursor: null }>("auth.sessions.list");
    expect(res.status).toBe(200);
    expect(res.data.items).toHaveLength(2);
    const current = res.data.items.filter((s) => s.current);
    expect(current).toHaveLength(1);
    expect(current[0]!.id).toBe(hashToken(laptop.sessionToken!));
    expect(res.data.items.map((s) => s.userAgent).sort()).toEqual(["Laptop Firefox", "Phone Safari"]);
    expect(res.data.items[0]!.ip).toBeTruthy();
    expect(Date.parse(res.data.items[0]!.createdAt)).not.toBeNaN();
  });

  it("revokes one session: that device is signed out at once", async () => {
    const { account } = await createUser(t);
    const laptop = await signIn(t, account);
    const phone = await signIn(t, account);
    const res = await laptop.mutation("auth.sessions.revoke", { id: hashToken(phone.sessionToken!) });
    expect(res.status).toBe(200);
    expect((await phone.query("auth.me")).data).toBeNull();
    expect((await laptop.query("auth.me")).data).not.toBeNull();
  });

  it("answers NOT_FOUND for another user's session and leaves it alone", async () => {
    const a = await createUser(t);
    const b = await createUser(t);
    const aClient = await signIn(t, a.account);
    const bClient = await signIn(t, b.account);
    const bSession = hashToken(bClient.sessionToken!);
    const res = await aClient.mutation("auth.sessions.revoke", { id: bSession });
    expect(res.status).toBe(404);
    expect(await t.models.Session.findByPk(bSession)).not.toBeNull();
    expect((await bClient.query("auth.me")).data).not.toBeNull();
  });

  it("signs out everywhere else and keeps this device", async () => {
    const { account, user } = await createUser(t);
    const here = await signIn(t, account);
    const others = [await signIn(t, account), await signIn(t, account)];
    const res = await here.mutation<{ revoked: number }>("auth.sessions.revokeOthers");
    expect(res.data.revoked).toBe(2);
    for (const o of others) expect((await o.query("auth.me")).data).toBeNull();
    expect((await here.query("auth.me")).data).not.toBeNull();
    expect(await t.models.Session.count({ where: { userId: user.id } })).toBe(1);
  });

  it("refuses session management when signed out", async () => {
    expect((await t.client().query("auth.sessions.list")).status).toBe(401);
    expect((await t.client().mutation("auth.sessions.revokeOthers")).status).toBe(401);
  });
});
