import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser, signIn, signUp, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const adminQueries: [string, unknown][] = [
  ["admin.stats", undefined],
  ["admin.users.list", {}],
];

describe("admin access", () => {
  it("has no administrator until one is created: a fresh database has no admin and sign-ups are plain users", async () => {
    const { user } = await signUp(t);
    expect(user).toMatchObject({ role: "user" });
    expect(await t.models.User.count({ where: { role: "admin" } })).toBe(0);
  });

  it.each(adminQueries)("refuses %s to a signed-out caller with 401", async (path, input) => {
    expect((await t.client().query(path, input)).status).toBe(401);
  });

  it.each(adminQueries)("refuses %s to an ordinary user with 403", async (path, input) => {
    const { account } = await createUser(t);
    const client = await signIn(t, account);
    const res = await client.query(path, input);
    expect(res.status).toBe(403);
    expect(res.data).toBeUndefined();
  });

  it("lets an administrator list users and read the stats", async () => {
    const { account } = await createUser(t, { role: "admin" });
    const plain = await createUser(t);
    const admin = await signIn(t, account);
    const stats = await admin.query<{ users: number; verifiedUsers: number; admins: number }>("admin.stats");
    expect(stats.status).toBe(200);
    expect(stats.data.admins).toBeGreaterThanOrEqual(1);
    expect(stats.data.users).toBe(await t.models.User.count());

    const found = await admin.query<{ items: { email: string; verified: boolean }[] }>("admin.users.list", {
      q: plain.account.email.slice(0, 12),
    });
    expect(found.data.items.map((u) => u.email)).toContain(plain.account.email);
    expect(JSON.stringify(found.data)).not.toMatch(/argon2|passwordHash/);
  });

  it("matches LIKE wildcards in the search literally", async () => {
    const { account } = await createUser(t, { role: "admin" });
    const admin = await signIn(t, account);
    const percent = await admin.query<{ items: unknown[] }>("admin.users.list", { q: "%" });
    expect(percent.status).toBe(200);
    expect(percent.data.items).toEqual([]);
    const quoteAndBang = await admin.query<{ items: unknown[] }>("admin.users.list", { q: "'!_\\" });
    expect(quoteAndBang.status).toBe(200);
    expect(quoteAndBang.data.items).toEqual([]);
  });

  it("pages through users with a cursor, newest first, without repeats", async () => {
    const { account } = await createUser(t, { role: "admin" });
    for (let i = 0; i < 5; i++) await createUser(t);
    const admin = await signIn(t, account);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: { items: { id: string }[]; nextCursor: string | null } } = await admin.query(
        "admin.users.list",
        {
          limit: 2,
          cursor,
        },
      );
      seen.push(...page.data.items.map((u) => u.id));
      cursor = page.data.nextCursor;
    } while (cursor);
    expect(seen.length).toBe(await t.models.User.count());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("takes away admin access as soon as the role is removed", async () => {
    const { account, user } = await createUser(t, { role: "admin" });
    const admin = await signIn(t, account);
    expect((await admin.query("admin.stats")).status).toBe(200);
    await t.models.User.update({ role: "user" }, { where: { id: user.id } });
    await t.server.runtime.deps.cache.forgetUser(user.id); // what every change of a user through the app does
    expect((await admin.query("admin.stats")).status).toBe(403);
  });
});
