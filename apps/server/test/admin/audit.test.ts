// The audit log: one row per security-relevant action (sign-ins and failures, password reset and
// change, role changes, disable/enable, deletion, API keys), each naming the actor, the target,
// the client IP and the time; nothing recorded for an action that did not happen; read newest
// first through admin.audit.list, filtered by action and by user, in cursor pages.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allPages,
  auditRows,
  createKey,
  LOOPBACK,
  ok,
  signedIn,
  type AuditAction,
  type AuditEntry,
  type Page,
} from "../support/admin";
import { eventually } from "../support/files";
import { resetLinkFrom } from "../support/smtp";
import { createUser, newAccount, signIn, signUp, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
let admin: Awaited<ReturnType<typeof signedIn>>;
beforeAll(async () => {
  t = await startTestServer();
  admin = await signedIn(t, "admin");
});
afterAll(() => t.close());

/** The newest audit entries for one user (as actor or target), through the admin API. */
async function entriesFor(userId: string, action?: AuditAction): Promise<AuditEntry[]> {
  const page = ok(
    await admin.client.query<Page<AuditEntry>>("admin.audit.list", {
      userId,
      ...(action ? { action } : {}),
      limit: 100,
    }),
  );
  return page.items;
}

/** Runs `act` and returns the audit entries it added (any user), oldest first. */
async function added(act: () => Promise<unknown>) {
  const before = new Set((await auditRows(t)).map((r) => r.id));
  const started = Date.now();
  await act();
  const finished = Date.now();
  const rows = (await auditRows(t)).filter((r) => !before.has(r.id));
  for (const r of rows) {
    // Database clocks keep milliseconds; allow for the rounding of the stored instant.
    expect(r.createdAt.getTime()).toBeGreaterThanOrEqual(started - 5);
    expect(r.createdAt.getTime()).toBeLessThanOrEqual(finished + 5);
  }
  return rows;
}

describe("what is recorded", () => {
  it("sign_in: the user as actor and target, the connection's IP (not a spoofed X-Forwarded-For), the time", async () => {
    const { user, account } = await createUser(t);
    const client = t.client({ headers: { "x-forwarded-for": "203.0.113.7" } });
    const rows = await added(() => signIn(t, account, client));
    expect(rows).toEqual([
      expect.objectContaining({
        action: "sign_in",
        actorId: user.id,
        targetUserId: user.id,
        targetEmail: account.email,
        details: null,
      }),
    ]);
    expect(rows[0]!.ip).toMatch(LOOPBACK);

    const [entry] = await entriesFor(user.id, "sign_in");
    expect(entry).toMatchObject({
      action: "sign_in",
      actorId: user.id,
      actorEmail: account.email,
      targetUserId: user.id,
      targetEmail: account.email,
      details: null,
    });
    expect(entry!.ip).toMatch(LOOPBACK);
    expect(entry!.createdAt).toBe(rows[0]!.createdAt.toISOString());
  });

  it("sign_in is also recorded when confirming the emailed code signs the person in", async () => {
    let userId = "";
    const rows = await added(async () => {
      userId = (await signUp(t)).user.id;
    });
    expect(rows).toEqual([expect.objectContaining({ action: "sign_in", actorId: userId, targetUserId: userId })]);
  });

  it("sign_in_failed: a wrong password names the account; an unknown address is recorded as typed (normalised)", async () => {
    const { user, account } = await createUser(t);
    const wrong = await added(async () => {
      const res = await t
        .client()
        .mutation("auth.login", { email: account.email, password: "not the password at all" });
      expect(res.status).toBe(401);
    });
    expect(wrong).toEqual([
      expect.objectContaining({
        action: "sign_in_failed",
        actorId: null,
        targetUserId: user.id,
        targetEmail: account.email,
      }),
    ]);
    expect(wrong[0]!.ip).toMatch(LOOPBACK);

    const stranger = newAccount("ghost").email;
    const unknown = await added(async () => {
      const res = await t
        .client()
        .mutation("auth.login", { email: `  ${stranger.toUpperCase()} `, password: "whatever it is" });
      expect(res.status).toBe(401);
    });
    expect(unknown).toEqual([
      expect.objectContaining({ action: "sign_in_failed", actorId: null, targetUserId: null, targetEmail: stranger }),
    ]);
    expect(unknown[0]!.ip).toMatch(LOOPBACK);
  });

  it("password_reset: no actor (the person is signed out), the account as target", async () => {
    const { user, account } = await createUser(t);
    ok(await t.client().mutation("auth.requestPasswordReset", { email: account.email }));
    const link = resetLinkFrom(await t.smtp.waitFor(account.email, /reset/i));
    const token = new URL(link).hash.replace("#token=", "");
    const rows = await added(async () => {
      ok(await t.client().mutation("auth.resetPassword", { token, password: "a fresh reset passphrase 9" }));
    });
    expect(rows).toEqual([
      expect.objectContaining({
        action: "password_reset",
        actorId: null,
        targetUserId: user.id,
        targetEmail: account.email,
      }),
    ]);
    expect(rows[0]!.ip).toMatch(LOOPBACK);
    // A second use of the link fails and records nothing.
    const again = await added(async () => {
      expect(
        (await t.client().mutation("auth.resetPassword", { token, password: "yet another passphrase 10" })).status,
      ).toBe(400);
    });
    expect(again).toEqual([]);
  });

  it("password_changed on success; nothing for a wrong current password", async () => {
    const { user, account } = await createUser(t);
    const client = await signIn(t, account);
    const refused = await added(async () => {
      const res = await client.mutation("auth.changePassword", {
        currentPassword: "not my password",
        newPassword: "another long passphrase",
      });
      expect(res.status).toBe(400);
      expect(res.error?.data.fieldErrors?.currentPassword).toBeDefined();
    });
    expect(refused).toEqual([]);
    const rows = await added(async () => {
      ok(
        await client.mutation("auth.changePassword", {
          currentPassword: account.password,
          newPassword: "another long passphrase",
        }),
      );
    });
    expect(rows).toEqual([
      expect.objectContaining({
        action: "password_changed",
        actorId: user.id,
        targetUserId: user.id,
        targetEmail: account.email,
      }),
    ]);
    expect(rows[0]!.ip).toMatch(LOOPBACK);
  });

  it("role_changed with from and to; nothing when the role is unchanged or the change is refused", async () => {
    const { user, account } = await createUser(t);
    const promote = await added(() => admin.client.mutation("admin.users.setRole", { id: user.id, role: "admin" }));
    expect(promote).toEqual([
      expect.objectContaining({
        action: "role_changed",
        actorId: admin.user.id,
        targetUserId: user.id,
        targetEmail: account.email,
        details: { from: "user", to: "admin" },
      }),
    ]);
    expect(promote[0]!.ip).toMatch(LOOPBACK);
    const demote = await added(() => admin.client.mutation("admin.users.setRole", { id: user.id, role: "user" }));
    expect(demote).toEqual([
      expect.objectContaining({ action: "role_changed", details: { from: "admin", to: "user" } }),
    ]);

    expect(await added(() => admin.client.mutation("admin.users.setRole", { id: user.id, role: "user" }))).toEqual([]);
    const selfDemote = await added(async () => {
      const res = await admin.client.mutation("admin.users.setRole", { id: admin.user.id, role: "user" });
      expect(res.error?.data.reason).toBe("self");
    });
    expect(selfDemote).toEqual([]);
    const byUser = await added(async () => {
      const u = await signedIn(t);
      const res = await u.client.mutation("admin.users.setRole", { id: u.user.id, role: "admin" });
      expect(res.status).toBe(403);
    });
    expect(byUser.map((r) => r.action)).toEqual(["sign_in"]);
  });

  it("user_disabled and user_enabled by the administrator; nothing for a refused or idle change", async () => {
    const { user, account } = await createUser(t);
    const rows = await added(async () => {
      ok(await admin.client.mutation("admin.users.setDisabled", { id: user.id, disabled: true }));
      ok(await admin.client.mutation("admin.users.setDisabled", { id: user.id, disabled: true })); // already disabled
      ok(await admin.client.mutation("admin.users.setDisabled", { id: user.id, disabled: false }));
    });
    expect(rows.map((r) => [r.action, r.actorId, r.targetUserId, r.targetEmail])).toEqual([
      ["user_disabled", admin.user.id, user.id, account.email],
      ["user_enabled", admin.user.id, user.id, account.email],
    ]);
    for (const r of rows) expect(r.ip).toMatch(LOOPBACK);

    const refused = await added(async () => {
      expect(
        (await admin.client.mutation("admin.users.setDisabled", { id: admin.user.id, disabled: true })).status,
      ).toBe(403);
      expect(
        (await admin.client.mutation("admin.users.setDisabled", { id: "no-such-user", disabled: true })).status,
      ).toBe(404);
    });
    expect(refused).toEqual([]);
  });

  it("user_deleted keeps the email and username of the account that is gone", async () => {
    const { user, account } = await createUser(t);
    const rows = await added(() => admin.client.mutation("admin.users.delete", { id: user.id }));
    expect(rows).toEqual([
      expect.objectContaining({
        action: "user_deleted",
        actorId: admin.user.id,
        targetUserId: user.id,
        targetEmail: account.email,
        details: { username: account.username, files: 0 },
      }),
    ]);
    expect(rows[0]!.ip).toMatch(LOOPBACK);
    await eventually(async () => expect(await t.models.User.findByPk(user.id)).toBeNull(), 20_000);
    // Still listed, still readable, after the account is gone.
    const [entry] = await entriesFor(user.id, "user_deleted");
    expect(entry).toMatchObject({ targetEmail: account.email, actorEmail: admin.account.email });

    const refused = await added(async () => {
      expect((await admin.client.mutation("admin.users.delete", { id: admin.user.id })).status).toBe(403);
      expect((await admin.client.mutation("admin.users.delete", { id: user.id })).status).toBe(404);
    });
    expect(refused).toEqual([]);
  });

  it("api_key_created and api_key_revoked name the key; nothing for revoking a key that is not yours or not there", async () => {
    const u = await signedIn(t);
    let keyId = "";
    const created = await added(async () => {
      keyId = (await createKey(u.client, "nightly export")).apiKey.id;
    });
    expect(created).toEqual([
      expect.objectContaining({
        action: "api_key_created",
        actorId: u.user.id,
        targetUserId: u.user.id,
        targetEmail: u.account.email,
        details: { keyId, name: "nightly export" },
      }),
    ]);
    expect(created[0]!.ip).toMatch(LOOPBACK);
    // The key itself is never written to the log.
    expect(JSON.stringify(await auditRows(t, { targetUserId: u.user.id }))).not.toMatch(/nbk_/);

    const other = await signedIn(t);
    const refused = await added(async () => {
      expect((await other.client.mutation("auth.apiKeys.revoke", { id: keyId })).status).toBe(404);
      expect(
        (await u.client.mutation("auth.apiKeys.revoke", { id: "0190b2a4-0000-7000-8000-000000000000" })).status,
      ).toBe(404);
    });
    expect(refused).toEqual([]);

    const revoked = await added(() => u.client.mutation("auth.apiKeys.revoke", { id: keyId }));
    expect(revoked).toEqual([
      expect.objectContaining({
        action: "api_key_revoked",
        actorId: u.user.id,
        targetUserId: u.user.id,
        details: { keyId },
      }),
    ]);
    expect(
      await added(async () => {
        expect((await u.client.mutation("auth.apiKeys.revoke", { id: keyId })).status).toBe(404);
      }),
    ).toEqual([]);
  });

  it("refused key creation (expiry in the past) records nothing", async () => {
    const u = await signedIn(t);
    const rows = await added(async () => {
      const res = await u.client.mutation("auth.apiKeys.create", {
        name: "late",
        expiresAt: new Date(Date.now() - 60_000).toISOString(),
      });
      expect(res.status).toBe(400);
    });
    expect(rows).toEqual([]);
  });
});

describe("admin.audit.list", () => {
  it("lists newest first, every entry shaped the same", async () => {
    const u = await signedIn(t);
    await createKey(u.client);
    const items = ok(await admin.client.query<Page<AuditEntry>>("admin.audit.list", { limit: 100 })).items;
    expect(items.length).toBeGreaterThan(5);
    const stored = (await auditRows(t)).reverse();
    // Newest first; entries of the same millisecond by id, newest id first.
    const expected = [...stored].sort(
      (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0),
    );
    expect(items.map((e) => e.id)).toEqual(expected.slice(0, items.length).map((r) => r.id));
    expect(items[0]).toMatchObject({ action: "api_key_created", actorId: u.user.id });
    for (const e of items) {
      expect(Object.keys(e).sort()).toEqual(
        ["action", "actorEmail", "actorId", "createdAt", "details", "id", "ip", "targetEmail", "targetUserId"].sort(),
      );
      expect(new Date(e.createdAt).toISOString()).toBe(e.createdAt);
    }
  });

  it("filters by action", async () => {
    await signedIn(t);
    for (const action of ["sign_in", "role_changed", "api_key_revoked"] as const) {
      const items = (await allPages<AuditEntry>(admin.client, "admin.audit.list", { action }, 50)).flat();
      expect(items.length, action).toBe(await t.models.AuditEvent.count({ where: { action } }));
      expect(items.every((e) => e.action === action)).toBe(true);
    }
    const unknown = await admin.client.query("admin.audit.list", { action: "coffee_made" });
    expect(unknown.status).toBe(400);
    expect(unknown.error?.data.fieldErrors?.action).toBeDefined();
  });

  it("filters by user: what they did and what was done to them", async () => {
    const u = await signedIn(t);
    await createKey(u.client);
    ok(await admin.client.mutation("admin.users.setDisabled", { id: u.user.id, disabled: true }));
    await signedIn(t); // someone else's activity, not listed
    const items = await entriesFor(u.user.id);
    expect(items.map((e) => e.action)).toEqual(["user_disabled", "api_key_created", "sign_in"]);
    expect(items.every((e) => e.actorId === u.user.id || e.targetUserId === u.user.id)).toBe(true);
    expect(items[0]).toMatchObject({
      actorId: admin.user.id,
      actorEmail: admin.account.email,
      targetUserId: u.user.id,
    });

    // The administrator's own trail includes what they did to others.
    const mine = (await allPages<AuditEntry>(admin.client, "admin.audit.list", { userId: admin.user.id }, 50)).flat();
    expect(mine.some((e) => e.action === "user_disabled" && e.targetUserId === u.user.id)).toBe(true);

    // Both filters at once.
    const both = ok(
      await admin.client.query<Page<AuditEntry>>("admin.audit.list", { userId: u.user.id, action: "sign_in" }),
    ).items;
    expect(both.map((e) => e.action)).toEqual(["sign_in"]);
  });

  it("pages with a cursor: every entry once, in the same order as one long page", async () => {
    for (let i = 0; i < 3; i++) await signedIn(t);
    const total = await t.models.AuditEvent.count();
    const whole = ok(await admin.client.query<Page<AuditEntry>>("admin.audit.list", { limit: 100 }));
    expect(total).toBeLessThanOrEqual(100);
    expect(whole.nextCursor).toBeNull();
    const pages = await allPages<AuditEntry>(admin.client, "admin.audit.list", {}, 4);
    expect(pages.slice(0, -1).every((p) => p.length === 4)).toBe(true);
    expect(pages.flat().map((e) => e.id)).toEqual(whole.items.map((e) => e.id));
    expect(pages.flat()).toHaveLength(total);

    const filtered = await allPages<AuditEntry>(admin.client, "admin.audit.list", { action: "sign_in" }, 2);
    const ids = filtered.flat().map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(await t.models.AuditEvent.count({ where: { action: "sign_in" } }));

    const bad = await admin.client.query("admin.audit.list", { cursor: "not a cursor" });
    expect(bad.status).toBe(400);
  });

  it("is for administrators only", async () => {
    const u = await signedIn(t);
    expect((await u.client.query("admin.audit.list")).status).toBe(403);
    expect((await t.client().query("admin.audit.list")).status).toBe(401);
  });
});
