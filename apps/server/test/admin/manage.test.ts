// The admin area through the real API: the users table (columns, counts, search, sort, cursor
// pages), a user's details, stats, disable/enable, role changes and deletion, each taking effect at
// once on the user's sessions, API keys and JWTs; the guards against an admin removing themself
// or the last administrator; and every admin procedure refused to everyone else.
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteUser, requestMeta, setUserDisabled, setUserRole, usernameKey } from "@notebox/core";
import { Op } from "@notebox/db";
import {
  allPages,
  bearer,
  contentUrl,
  createKey,
  createNote,
  issue,
  ok,
  signedIn,
  tokenFromKey,
  uploadFiles,
  type AdminUserDetail,
  type AdminUserListItem,
  type Page,
} from "../support/admin";
import type { TestClient } from "../support/client";
import { eventually } from "../support/files";
import { createUser, newAccount, signIn, signUp, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
let admin: Awaited<ReturnType<typeof signedIn>>;
beforeAll(async () => {
  t = await startTestServer();
  admin = await signedIn(t, "admin");
});
afterAll(() => t.close());

type UserPage = Page<AdminUserListItem>;

async function listOne(email: string): Promise<AdminUserListItem> {
  const page = ok(await admin.client.query<UserPage>("admin.users.list", { q: email }));
  const found = page.items.filter((u) => u.email === email);
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** A tag no other account's email or username contains. */
const uniqueTag = () => `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;

describe("users table", () => {
  it("shows each account's columns with its notes, files and stored bytes counted", async () => {
    const busy = await signedIn(t);
    for (const title of ["one", "two", "three"]) await createNote(busy.client, title, `text of ${title}`);
    const files = await uploadFiles(busy.client, [
      { name: "hello.txt", bytes: "hello" },
      { name: "data.bin", bytes: new Uint8Array(1000).fill(7) },
    ]);
    expect(files.map((f) => f.size)).toEqual([5, 1000]);
    const idle = await createUser(t);
    const disabled = await createUser(t, { disabled: true });
    const unverified = await createUser(t);
    await unverified.user.update({ emailVerifiedAt: null });

    const row = await listOne(busy.account.email);
    expect(row).toEqual({
      id: busy.user.id,
      username: busy.account.username,
      email: busy.account.email,
      role: "user",
      createdAt: busy.user.createdAt.toISOString(),
      verified: true,
      disabled: false,
      lastLoginAt: expect.any(String) as string,
      notes: 3,
      files: 2,
      usedBytes: 1005,
    });
    const lastLogin = (await t.models.User.findByPk(busy.user.id))!.lastLoginAt!;
    expect(row.lastLoginAt).toBe(lastLogin.toISOString());

    expect(await listOne(idle.account.email)).toMatchObject({
      lastLoginAt: null,
      notes: 0,
      files: 0,
      usedBytes: 0,
      verified: true,
      disabled: false,
    });
    expect(await listOne(disabled.account.email)).toMatchObject({ disabled: true, verified: true });
    expect(await listOne(unverified.account.email)).toMatchObject({ verified: false, disabled: false });
    expect(await listOne(admin.account.email)).toMatchObject({ role: "admin" });

    const whole = await admin.client.query("admin.users.list", {});
    expect(JSON.stringify(whole.data)).not.toMatch(/argon2|passwordHash|password_hash|tokensValidAfter/);
  });

  it("searches by part of an email address or of a username, whatever the case", async () => {
    const tag = uniqueTag();
    const byName = await createUser(t);
    await byName.user.update({ username: `Quokka_${tag}`, usernameKey: usernameKey(`Quokka_${tag}`) });
    const byEmail = await createUser(t);
    await byEmail.user.update({ email: `wombat.${tag}@example.test` });
    await createUser(t);

    const search = async (q: string) =>
      ok(await admin.client.query<UserPage>("admin.users.list", { q })).items.map((u) => u.id);
    expect(await search(`quokka_${tag}`)).toEqual([byName.user.id]);
    expect(await search(`QUOKKA_${tag.toUpperCase()}`)).toEqual([byName.user.id]);
    expect(await search(`wombat.${tag}`)).toEqual([byEmail.user.id]);
    expect(await search(`WOMBAT.${tag.toUpperCase()}@EXAMPLE`)).toEqual([byEmail.user.id]);
    expect((await search(tag)).sort()).toEqual([byName.user.id, byEmail.user.id].sort());
    expect(await search(`nobody-${tag}`)).toEqual([]);
  });

  it("sorts by email (A to Z) and by creation (newest first) and walks the pages with a cursor", async () => {
    const tag = uniqueTag();
    const ids: string[] = [];
    for (const letter of ["c", "a", "e", "b", "d"]) {
      const { user } = await createUser(t);
      await user.update({ email: `${letter}-${tag}@sort.example.test` });
      ids.push(user.id);
    }

    const byEmail = await allPages<AdminUserListItem>(admin.client, "admin.users.list", { q: tag, sort: "email" }, 2);
    expect(byEmail.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(byEmail.flat().map((u) => u.email[0])).toEqual(["a", "b", "c", "d", "e"]);

    // Newest first; accounts created in the same millisecond are ordered by id, newest id first.
    const rows = await t.models.User.findAll({ where: { id: ids } });
    const expected = [...rows]
      .sort((x, y) => y.createdAt.getTime() - x.createdAt.getTime() || (y.id < x.id ? -1 : y.id > x.id ? 1 : 0))
      .map((u) => u.id);
    for (const sort of ["created", undefined]) {
      const pages = await allPages<AdminUserListItem>(
        admin.client,
        "admin.users.list",
        { q: tag, ...(sort ? { sort } : {}) },
        2,
      );
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      expect(pages.flat().map((u) => u.id)).toEqual(expected);
    }
    // The newest account of all comes first without a filter.
    const newest = await createUser(t);
    const first = ok(await admin.client.query<UserPage>("admin.users.list", { limit: 1 }));
    expect(first.items.map((u) => u.id)).toEqual([newest.user.id]);
    expect(first.nextCursor).not.toBeNull();
  });

  it("walks every account exactly once, in both orders", async () => {
    for (let i = 0; i < 3; i++) await createUser(t);
    const total = await t.models.User.count();
    for (const sort of ["created", "email"]) {
      const seen = (await allPages<AdminUserListItem>(admin.client, "admin.users.list", { sort }, 3))
        .flat()
        .map((u) => u.id);
      expect(seen).toHaveLength(total);
      expect(new Set(seen).size).toBe(total);
    }
  });

  it("refuses a forged cursor and an unknown sort with field errors", async () => {
    const badCursor = await admin.client.query("admin.users.list", { cursor: "bm90LWEtY3Vyc29y" });
    expect(badCursor.status).toBe(400);
    expect(badCursor.error?.data.fieldErrors?.cursor).toBeDefined();
    const badSort = await admin.client.query("admin.users.list", { sort: "password" });
    expect(badSort.status).toBe(400);
    expect(badSort.error?.data.fieldErrors?.sort).toBeDefined();
  });
});

describe("a user's page", () => {
  it("shows the account with its notes, files, bytes, live sessions and live API keys", async () => {
    const u = await signedIn(t);
    await signIn(t, u.account);
    await createNote(u.client, "a note");
    await uploadFiles(u.client, [{ name: "x.txt", bytes: "0123456789" }]);
    await createKey(u.client, "kept");
    const gone = await createKey(u.client, "revoked");
    ok(await u.client.mutation("auth.apiKeys.revoke", { id: gone.apiKey.id }));

    const detail = ok(await admin.client.query<AdminUserDetail>("admin.users.get", { id: u.user.id }));
    expect(detail).toEqual({
      id: u.user.id,
      username: u.account.username,
      email: u.account.email,
      role: "user",
      createdAt: u.user.createdAt.toISOString(),
      verified: true,
      disabled: false,
      lastLoginAt: expect.any(String) as string,
      quotaBytes: null,
      effectiveQuotaBytes: t.server.runtime.deps.config.userQuotaBytes,
      notes: 1,
      files: 1,
      usedBytes: 10,
      sessions: 2,
      apiKeys: 1,
    });
    expect(JSON.stringify(detail)).not.toMatch(/argon2|passwordHash/);

    const missing = await admin.client.query("admin.users.get", { id: "0190b2a4-0000-7000-8000-000000000000" });
    expect(missing.status).toBe(404);
  });
});

describe("stats", () => {
  it("counts users, verified users, notes, files, stored bytes and sign-ups per day", async () => {
    const u = await signedIn(t);
    await createNote(u.client, "counted");
    await uploadFiles(u.client, [{ name: "c.txt", bytes: "abc" }]);
    await (await createUser(t)).user.update({ emailVerifiedAt: null });
    const todayBefore = new Date().toISOString().slice(0, 10);
    const stats = ok(
      await admin.client.query<{
        users: number;
        verifiedUsers: number;
        admins: number;
        disabledUsers: number;
        notes: number;
        files: number;
        bytesStored: number;
        signupsPerDay: { day: string; count: number }[];
      }>("admin.stats"),
    );
    const { User, Note, File } = t.models;
    expect(stats.users).toBe(await User.count());
    expect(stats.verifiedUsers).toBe(await User.count({ where: { emailVerifiedAt: { [Op.ne]: null } } }));
    expect(stats.verifiedUsers).toBeLessThan(stats.users); // the unverified account
    expect(stats.admins).toBe(await User.count({ where: { role: "admin" } }));
    expect(stats.disabledUsers).toBe(await User.count({ where: { disabledAt: { [Op.ne]: null } } }));
    expect(stats.notes).toBe(await Note.count());
    expect(stats.files).toBe(await File.count());
    expect(stats.bytesStored).toBe(Number(await File.sum("size")));
    expect(stats.bytesStored).toBeGreaterThan(0);

    // 30 days, oldest first, ending today (UTC); every account here was created today.
    const days = stats.signupsPerDay.map((d) => d.day);
    expect(days).toHaveLength(30);
    expect([...days].sort()).toEqual(days);
    expect([todayBefore, new Date().toISOString().slice(0, 10)]).toContain(days.at(-1));
    expect(stats.signupsPerDay.reduce((sum, d) => sum + d.count, 0)).toBe(stats.users);
  });
});

describe("disable and enable", () => {
  it("disabling ends the user's sessions, API keys and JWTs on their next request", async () => {
    const u = await signedIn(t);
    const { key } = await createKey(u.client);
    const sessionJwt = (await issue(u.client)).token;
    const keyJwt = await tokenFromKey(t, key);
    const [file] = await uploadFiles(u.client, [{ name: "mine.txt", bytes: "mine" }]);
    expect((await u.client.query("notes.list")).status).toBe(200);
    expect((await bearer(t, sessionJwt).query("notes.list")).status).toBe(200);
    expect((await bearer(t, keyJwt).query("notes.list")).status).toBe(200);

    const res = await admin.client.mutation<AdminUserListItem>("admin.users.setDisabled", {
      id: u.user.id,
      disabled: true,
    });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ id: u.user.id, disabled: true });

    expect((await u.client.query("notes.list")).status).toBe(401);
    expect((await u.client.query("auth.me")).data).toBeNull();
    expect((await bearer(t, sessionJwt).query("notes.list")).status).toBe(401);
    expect((await bearer(t, keyJwt).query("notes.list")).status).toBe(401);
    expect((await bearer(t, keyJwt).query("auth.me")).data).toBeNull();
    expect((await bearer(t, keyJwt).fetch(contentUrl(file!.id))).status).toBe(401);
    expect((await bearer(t, key).mutation("auth.issueToken")).status).toBe(401);
    expect(await t.models.Session.count({ where: { userId: u.user.id } })).toBe(0);

    const login = await t.client().mutation("auth.login", { email: u.account.email, password: u.account.password });
    expect(login.status).toBe(403);
    expect(login.error?.data.reason).toBe("account_disabled");
  });

  it("enabling lets the user sign in again; the sessions and JWTs from before stay dead", async () => {
    const u = await signedIn(t);
    const sessionJwt = (await issue(u.client)).token;
    ok(await admin.client.mutation("admin.users.setDisabled", { id: u.user.id, disabled: true }));
    const res = await admin.client.mutation<AdminUserListItem>("admin.users.setDisabled", {
      id: u.user.id,
      disabled: false,
    });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ id: u.user.id, disabled: false });

    expect((await u.client.query("notes.list")).status).toBe(401);
    expect((await bearer(t, sessionJwt).query("notes.list")).status).toBe(401);
    const again = await signIn(t, u.account);
    expect((await again.query("notes.list")).status).toBe(200);
    expect((await again.query<{ id: string }>("auth.me")).data.id).toBe(u.user.id);
  });

  it("answers NOT_FOUND for an unknown account", async () => {
    const res = await admin.client.mutation("admin.users.setDisabled", { id: "no-such-user", disabled: true });
    expect(res.status).toBe(404);
  });
});

describe("roles", () => {
  it("demoting an administrator ends their sessions and JWTs at once; signed in again they get 403", async () => {
    const other = await signedIn(t, "admin");
    const { key } = await createKey(other.client);
    const jwt = (await issue(other.client)).token;
    expect((await other.client.query("admin.stats")).status).toBe(200);
    expect((await bearer(t, jwt).query("admin.stats")).status).toBe(200);

    const res = await admin.client.mutation<AdminUserListItem>("admin.users.setRole", {
      id: other.user.id,
      role: "user",
    });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ id: other.user.id, role: "user" });

    // A role change ends the user's sessions and moves their cut-off: 401, not a stale admin.
    expect((await other.client.query("admin.stats")).status).toBe(401);
    expect((await other.client.query("auth.me")).data).toBeNull();
    expect((await bearer(t, jwt).query("admin.stats")).status).toBe(401);
    expect(await t.models.Session.count({ where: { userId: other.user.id } })).toBe(0);

    const again = await signIn(t, other.account);
    expect((await again.query("admin.stats")).status).toBe(403);
    expect((await again.query<{ role: string }>("auth.me")).data.role).toBe("user");
    // Their API key still works for their own data, with no admin rights.
    const fresh = await tokenFromKey(t, key);
    expect((await bearer(t, fresh).query("admin.stats")).status).toBe(403);
    expect((await bearer(t, fresh).query("notes.list")).status).toBe(200);
  });

  it("promoting a user gives administrator access once they sign in again", async () => {
    const u = await signedIn(t);
    expect((await u.client.query("admin.stats")).status).toBe(403);
    const res = await admin.client.mutation<AdminUserListItem>("admin.users.setRole", { id: u.user.id, role: "admin" });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ role: "admin" });
    expect((await u.client.query("admin.stats")).status).toBe(401);
    const again = await signIn(t, u.account);
    expect((await again.query("admin.stats")).status).toBe(200);
    expect((await t.models.User.findByPk(u.user.id))!.role).toBe("admin");
  });

  it("setting the role a user already has changes nothing and keeps their session", async () => {
    const u = await signedIn(t);
    const before = (await t.models.User.findByPk(u.user.id))!.tokensValidAfter.getTime();
    const res = await admin.client.mutation("admin.users.setRole", { id: u.user.id, role: "user" });
    expect(res.status).toBe(200);
    expect((await u.client.query("notes.list")).status).toBe(200);
    expect((await t.models.User.findByPk(u.user.id))!.tokensValidAfter.getTime()).toBe(before);
  });

  it("refuses an unknown role, and a role smuggled into other inputs", async () => {
    const u = await createUser(t);
    const res = await admin.client.mutation("admin.users.setRole", { id: u.user.id, role: "superuser" });
    expect(res.status).toBe(400);
    expect(res.error?.data.fieldErrors?.role).toBeDefined();
    await admin.client.mutation("admin.users.setDisabled", { id: u.user.id, disabled: false, role: "admin" });
    expect((await t.models.User.findByPk(u.user.id))!.role).toBe("user");
  });
});

describe("an administrator cannot turn against themself", () => {
  it("refuses self-demotion, self-disabling and self-deletion with reason self, and changes nothing", async () => {
    const me = await signedIn(t, "admin");
    const auditBefore = await t.models.AuditEvent.count();
    const before = (await t.models.User.findByPk(me.user.id))!;
    const attempts = [
      await me.client.mutation("admin.users.setRole", { id: me.user.id, role: "user" }),
      await me.client.mutation("admin.users.setDisabled", { id: me.user.id, disabled: true }),
      await me.client.mutation("admin.users.delete", { id: me.user.id }),
    ];
    expect(attempts.map((r) => [r.status, r.error?.data.reason])).toEqual([
      [403, "self"],
      [403, "self"],
      [403, "self"],
    ]);
    const after = (await t.models.User.findByPk(me.user.id))!;
    expect(after.role).toBe("admin");
    expect(after.disabledAt).toBeNull();
    expect(after.tokensValidAfter.getTime()).toBe(before.tokensValidAfter.getTime());
    expect((await me.client.query("admin.stats")).status).toBe(200);
    expect(await t.models.AuditEvent.count()).toBe(auditBefore);
  });
});

describe("the last administrator", () => {
  // Its own server: "last" counts every administrator in the database.
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.close());

  const meta = requestMeta({ ip: "127.0.0.1", userAgent: null });

  it("a disabled administrator does not count; the one left cannot demote, disable or delete themself", async () => {
    const a = await signedIn(s, "admin");
    const b = await signedIn(s, "admin");
    ok(await a.client.mutation("admin.users.setDisabled", { id: b.user.id, disabled: true }));
    // The disabled administrator can be removed: they were not an active one.
    expect((await a.client.mutation("admin.users.setRole", { id: b.user.id, role: "user" })).status).toBe(200);
    for (const [path, input] of [
      ["admin.users.setRole", { id: a.user.id, role: "user" }],
      ["admin.users.setDisabled", { id: a.user.id, disabled: true }],
      ["admin.users.delete", { id: a.user.id }],
    ] as const) {
      const res = await a.client.mutation(path, input);
      expect(res.status).toBe(403);
      expect(res.error?.data.reason).toBe("self");
    }
    const still = (await s.models.User.findByPk(a.user.id))!;
    expect([still.role, still.disabledAt]).toEqual(["admin", null]);
    ok(await a.client.mutation("admin.users.setRole", { id: b.user.id, role: "admin" }));
    ok(await a.client.mutation("admin.users.setDisabled", { id: b.user.id, disabled: false }));
  });

  it("refuses with CONFLICT last_admin to remove the only active administrator (acting admin lost their role meanwhile)", async () => {
    // Through the API the acting admin is always another active admin, so this is reached only
    // when two admins act at once (next test); here the core is called as that race leaves it:
    // the actor has just been demoted and the target is the last active administrator.
    await s.models.User.update({ role: "user" }, { where: { role: "admin" } });
    const last = await createUser(s, { role: "admin" });
    const demoted = await createUser(s);
    const deps = s.server.runtime.deps;
    const attempts = [
      () => setUserRole({ deps, actorId: demoted.user.id, id: last.user.id, role: "user", meta }),
      () => setUserDisabled({ deps, actorId: demoted.user.id, id: last.user.id, disabled: true, meta }),
      () => deleteUser({ deps, actorId: demoted.user.id, id: last.user.id, meta }),
    ];
    for (const attempt of attempts) {
      await expect(attempt()).rejects.toMatchObject({ code: "CONFLICT", reason: "last_admin" });
    }
    const row = (await s.models.User.findByPk(last.user.id))!;
    expect([row.role, row.disabledAt]).toEqual(["admin", null]);
    expect(await s.models.AuditEvent.count({ where: { targetUserId: last.user.id } })).toBe(0);
  });

  // Both databases serialise the two: every admin row is locked in id order before the target.
  it("two administrators removing each other at the same moment leave one administrator", async () => {
    for (const action of ["demote", "disable", "delete", "demote", "disable", "delete"] as const) {
      await s.models.User.update({ role: "user" }, { where: { role: "admin" } });
      const a = await signedIn(s, "admin");
      const b = await signedIn(s, "admin");
      const call = (client: TestClient, id: string) =>
        action === "demote"
          ? client.mutation("admin.users.setRole", { id, role: "user" })
          : action === "disable"
            ? client.mutation("admin.users.setDisabled", { id, disabled: true })
            : client.mutation("admin.users.delete", { id });
      const results = await Promise.all([call(a.client, b.user.id), call(b.client, a.user.id)]);
      const statuses = results.map((r) => r.status);
      // One wins; the other is refused as the last administrator (409), or, if it arrived after
      // the winner committed, finds its own session ended (401).
      expect(
        statuses.filter((s) => s === 200),
        `${action}: ${JSON.stringify(results.map((r) => r.error))}`,
      ).toHaveLength(1);
      for (const r of results.filter((r) => r.status !== 200)) {
        expect([401, 409]).toContain(r.status);
        if (r.status === 409) expect(r.error?.data.reason).toBe("last_admin");
      }
      const active = await s.models.User.count({ where: { role: "admin", disabledAt: null } });
      expect(active, action).toBe(1);
    }
  });
});

describe("deleting a user", () => {
  it("removes their notes, files, stored bytes, sessions, API keys, reset tokens and codes at once", async () => {
    // Signed up through the API, so an email code row exists for the address.
    const { client: victim, account, user } = await signUp(t, t.client(), newAccount("victim"));
    const phone = await signIn(t, account);
    for (const title of ["first", "second", "third"]) await createNote(victim, title, `the victim's ${title} note`);
    const [trashed] = ok(await victim.query<Page<{ id: string }>>("notes.list")).items;
    ok(await victim.mutation("notes.delete", { id: trashed!.id }));
    const files = await uploadFiles(victim, [
      { name: "a.txt", bytes: "victim bytes a" },
      { name: "b.bin", bytes: new Uint8Array(4096).fill(1) },
    ]);
    const { key } = await createKey(victim, "live");
    const revoked = await createKey(victim, "revoked");
    ok(await victim.mutation("auth.apiKeys.revoke", { id: revoked.apiKey.id }));
    const jwt = await tokenFromKey(t, key);
    ok(await t.client().mutation("auth.requestPasswordReset", { email: account.email }));
    await t.smtp.waitFor(account.email, /reset/i);

    // A bystander whose data must survive.
    const bystander = await signedIn(t);
    await createNote(bystander.client, "the bystander's note");
    const [kept] = await uploadFiles(bystander.client, [{ name: "kept.txt", bytes: "kept" }]);
    const keptKey = (await t.models.File.findByPk(kept!.id))!.storageKey;

    const { Note, File, Session, ApiKey, PasswordResetToken, EmailCode, User } = t.models;
    const storage = t.server.runtime.deps.storage;
    const storageKeys = (await File.findAll({ where: { ownerId: user.id } })).map((f) => f.storageKey);
    const counts = async () => ({
      notes: await Note.count({ where: { ownerId: user.id } }),
      files: await File.count({ where: { ownerId: user.id } }),
      sessions: await Session.count({ where: { userId: user.id } }),
      apiKeys: await ApiKey.count({ where: { userId: user.id } }),
      resetTokens: await PasswordResetToken.count({ where: { userId: user.id } }),
      emailCodes: await EmailCode.count({ where: { email: account.email } }),
      users: await User.count({ where: { id: user.id } }),
    });
    expect(await counts()).toEqual({
      notes: 3,
      files: 2,
      sessions: 2,
      apiKeys: 2,
      resetTokens: 1,
      emailCodes: 1,
      users: 1,
    });
    expect(storageKeys).toHaveLength(2);
    for (const k of storageKeys) expect(await storage.stat(k)).not.toBeNull();

    const res = await admin.client.mutation<{ status: string; files: number }>("admin.users.delete", { id: user.id });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ status: "deleted", files: 2 });

    // At once: no way in, and the account is gone from the administrator's pages.
    const { sessions, apiKeys, resetTokens, emailCodes } = await counts();
    expect({ sessions, apiKeys, resetTokens, emailCodes }).toEqual({
      sessions: 0,
      apiKeys: 0,
      resetTokens: 0,
      emailCodes: 0,
    });
    expect((await admin.client.query("admin.users.get", { id: user.id })).status).toBe(404);
    const listed = ok(await admin.client.query<UserPage>("admin.users.list", { q: account.email })).items;
    expect(listed).toEqual([]);
    // Its notes and files follow in the background, then the account row and its folder.
    await eventually(async () => expect((await counts()).users).toBe(0), 20_000);
    expect(await counts()).toEqual({
      notes: 0,
      files: 0,
      sessions: 0,
      apiKeys: 0,
      resetTokens: 0,
      emailCodes: 0,
      users: 0,
    });
    for (const k of storageKeys) expect(await storage.stat(k), k).toBeNull();
    if (storage.kind === "file") expect(existsSync(path.join(t.dataDir, "files", user.id))).toBe(false);
    expect(files).toHaveLength(2);
    const db = t.server.runtime.deps.db;
    if (db.dialect === "sqlite") {
      // The full-text index holds nothing of the deleted notes (raises if it disagrees with the table).
      await db.sequelize.query("INSERT INTO notes_fts(notes_fts) VALUES('integrity-check')");
    }

    // Every credential of theirs is dead.
    expect((await victim.query("notes.list")).status).toBe(401);
    expect((await phone.query("auth.me")).data).toBeNull();
    expect((await bearer(t, jwt).query("notes.list")).status).toBe(401);
    expect((await bearer(t, key).mutation("auth.issueToken")).status).toBe(401);
    expect((await t.client().mutation("auth.login", { email: account.email, password: account.password })).status).toBe(
      401,
    );

    // The bystander is untouched.
    expect(await Note.count({ where: { ownerId: bystander.user.id } })).toBe(1);
    expect(await storage.stat(keptKey)).not.toBeNull();
    expect((await bystander.client.fetch(contentUrl(kept!.id))).status).toBe(200);

    // The audit row outlives the account and still names it.
    const [deleted] = await t.models.AuditEvent.findAll({ where: { action: "user_deleted", targetUserId: user.id } });
    expect(deleted).toBeDefined();
    expect(deleted!.targetEmail).toBe(account.email);
    expect(deleted!.actorId).toBe(admin.user.id);
    expect(JSON.parse(deleted!.details!)).toEqual({ username: account.username, files: 2 });

    expect((await admin.client.query("admin.users.get", { id: user.id })).status).toBe(404);
    expect((await admin.client.mutation("admin.users.delete", { id: user.id })).status).toBe(404);
  });

  it("deletes an account that never owned anything", async () => {
    const { user } = await createUser(t);
    const res = await admin.client.mutation("admin.users.delete", { id: user.id });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ status: "deleted", files: 0 });
    await eventually(async () => expect(await t.models.User.findByPk(user.id)).toBeNull(), 20_000);
  });
});

describe("admin procedures refuse everyone but an active administrator", () => {
  type Call = { name: string; kind: "query" | "mutation"; input: (id: string) => unknown };
  const procedures: Call[] = [
    { name: "admin.users.list", kind: "query", input: () => ({}) },
    { name: "admin.users.get", kind: "query", input: (id) => ({ id }) },
    { name: "admin.users.setRole", kind: "mutation", input: (id) => ({ id, role: "admin" }) },
    { name: "admin.users.setDisabled", kind: "mutation", input: (id) => ({ id, disabled: true }) },
    { name: "admin.users.delete", kind: "mutation", input: (id) => ({ id }) },
    { name: "admin.stats", kind: "query", input: () => undefined },
    { name: "admin.audit.list", kind: "query", input: () => ({}) },
  ];

  async function tryAll(client: TestClient, targetId: string) {
    const out: [string, number][] = [];
    for (const p of procedures) {
      const res =
        p.kind === "query"
          ? await client.query(p.name, p.input(targetId))
          : await client.mutation(p.name, p.input(targetId));
      expect(res.data, p.name).toBeUndefined();
      out.push([p.name, res.status]);
    }
    return out;
  }
  const expectAll = (status: number) => procedures.map((p) => [p.name, status]);

  async function snapshot(ids: string[]) {
    const rows = await t.models.User.findAll({ where: { id: ids }, order: [["id", "ASC"]] });
    return {
      users: rows.map((u) => [u.id, u.role, u.disabledAt, u.tokensValidAfter.getTime()]),
      audit: await t.models.AuditEvent.count(),
    };
  }

  it("answers 401 to a signed-out caller, 403 to a user's session and JWT, 401 to an API key; nothing changes", async () => {
    const caller = await signedIn(t);
    const target = await createUser(t);
    const { key } = await createKey(caller.client);
    const jwt = (await issue(caller.client)).token;
    const adminKey = (await createKey(admin.client, "admin automation")).key;
    const before = await snapshot([caller.user.id, target.user.id]);

    expect(await tryAll(t.client(), target.user.id)).toEqual(expectAll(401));
    expect(await tryAll(caller.client, target.user.id)).toEqual(expectAll(403));
    expect(await tryAll(caller.client, caller.user.id)).toEqual(expectAll(403)); // e.g. promoting themself
    expect(await tryAll(bearer(t, jwt), target.user.id)).toEqual(expectAll(403));
    expect(await tryAll(bearer(t, key), target.user.id)).toEqual(expectAll(401));
    // An administrator's API key must be exchanged for a JWT too.
    expect(await tryAll(bearer(t, adminKey), target.user.id)).toEqual(expectAll(401));

    expect(await snapshot([caller.user.id, target.user.id])).toEqual(before);
    expect((await caller.client.query("notes.list")).status).toBe(200);
  });

  it("lets an administrator act with a JWT, without an Origin header", async () => {
    const jwt = (await issue(admin.client)).token;
    const target = await createUser(t);
    const client = bearer(t, jwt);
    expect((await client.query("admin.stats")).status).toBe(200);
    expect((await client.mutation("admin.users.setDisabled", { id: target.user.id, disabled: true })).status).toBe(200);
    expect((await t.models.User.findByPk(target.user.id))!.disabledAt).not.toBeNull();
  });

  it("refuses a state-changing admin call carrying the session cookie from another origin", async () => {
    const target = await createUser(t);
    const foreign = t.client({ origin: "https://evil.example" });
    foreign.cookies = new Map(admin.client.cookies);
    const res = await foreign.fetch("/api/v1/trpc/admin.users.delete", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: target.user.id }),
    });
    expect(res.status).toBe(403);
    expect(await t.models.User.findByPk(target.user.id)).not.toBeNull();
  });
});
