// What an administrator decides, through the real server: the sign-up policy (open, by
// invitation, closed) and allowed email domains, invitations, and file quotas per account.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { auditRows, ok, signedIn } from "../support/admin";
import type { TestClient } from "../support/client";
import { uploadRaw } from "../support/files";
import { createUser, newAccount, startTestServer, type TestServer } from "../support/server";
import { totp } from "../support/totp";

let t: TestServer;
let admin: TestClient;
beforeAll(async () => {
  t = await startTestServer();
  ({ client: admin } = await signedIn(t, "admin"));
});
afterAll(() => t.close());
afterEach(async () => {
  ok(
    await admin.mutation("admin.settings.update", {
      signUp: "open",
      allowedDomains: [],
      defaultQuotaBytes: null,
      requireTwoFactor: "off",
    }),
  );
});

type Settings = { signUp: string; allowedDomains: string[]; defaultQuotaBytes: number | null };
type Invite = { id: string; email: string; role: string; status: string };

function inviteLinkFrom(text: string): string {
  const match = /https?:\/\/\S+\/invite#token=([a-z2-7]+)/.exec(text);
  if (!match) throw new Error(`no invitation link in: ${text}`);
  return match[1]!;
}

describe("settings", () => {
  it("are the administrators' alone, start open, and every change is audited", async () => {
    const { client: member } = await signedIn(t);
    expect((await member.query("admin.settings.get")).status).toBe(403);
    expect((await member.mutation("admin.settings.update", { signUp: "closed" })).status).toBe(403);
    expect((await admin.query<Settings>("admin.settings.get")).data).toMatchObject({
      signUp: "open",
      allowedDomains: [],
      defaultQuotaBytes: null,
    });
    const updated = await admin.mutation<Settings>("admin.settings.update", {
      signUp: "invite",
      allowedDomains: [" Example.COM ", "example.com", "corp.example.org"],
    });
    expect(updated.data).toMatchObject({ signUp: "invite", allowedDomains: ["example.com", "corp.example.org"] });
    expect((await t.client().query("auth.signUpPolicy")).data).toEqual({
      signUp: "invite",
      allowedDomains: ["example.com", "corp.example.org"],
      passwordSignIn: true,
      sso: null,
      mailDelivery: "smtp",
    });
    expect((await auditRows(t, { action: "settings_changed" })).length).toBeGreaterThanOrEqual(1);
    for (const bad of [{ signUp: "maybe" }, { allowedDomains: ["not a domain"] }, { defaultQuotaBytes: -1 }]) {
      expect((await admin.mutation("admin.settings.update", bad)).status, JSON.stringify(bad)).toBe(400);
    }
  });
});

describe("the sign-up policy", () => {
  it("closed: register answers as ever, but creates nothing and mails nothing", async () => {
    ok(await admin.mutation("admin.settings.update", { signUp: "closed" }));
    const account = newAccount();
    const res = await t.client().mutation("auth.register", account);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ status: "verification_sent" });
    await t.server.runtime.deps.mailer.settled();
    expect(t.smtp.to(account.email)).toHaveLength(0);
    expect(await t.models.User.count({ where: { email: account.email } })).toBe(0);
  });

  it("limits sign-up to the allowed domains, saying so, and leaves others open", async () => {
    ok(await admin.mutation("admin.settings.update", { allowedDomains: ["allowed.example"] }));
    const outside = await t.client().mutation("auth.register", newAccount());
    expect(outside.status).toBe(400);
    expect(outside.error!.data.fieldErrors!.email![0]).toContain("allowed.example");
    const inside = { ...newAccount(), email: `someone.${Date.now()}@allowed.example` };
    expect((await t.client().mutation("auth.register", inside)).status).toBe(200);
    expect(await t.smtp.waitFor(inside.email, /code/i)).toBeTruthy();
  });
});

describe("invitations", () => {
  it("mail a single-use link that creates the account with its role and signs it in", async () => {
    ok(await admin.mutation("admin.settings.update", { signUp: "invite", allowedDomains: ["elsewhere.example"] }));
    const account = newAccount();
    // Sign-up is by invitation: register creates nothing.
    expect((await t.client().mutation("auth.register", account)).status).toBe(400);
    const invite = ok(await admin.mutation<Invite>("admin.invites.create", { email: account.email, role: "admin" }));
    expect(invite).toMatchObject({ email: account.email, role: "admin", status: "pending" });
    const token = inviteLinkFrom((await t.smtp.waitFor(account.email, /invited/i)).text);
    expect(await t.models.Invite.count({ where: { tokenHash: token } })).toBe(0);

    const visitor = t.client();
    expect((await visitor.query("auth.inviteInfo", { token })).data).toMatchObject({
      email: account.email,
      role: "admin",
    });
    const accepted = await visitor.mutation<{ user: { role: string; email: string } }>("auth.acceptInvite", {
      token,
      username: account.username,
      password: account.password,
    });
    expect(accepted.status).toBe(200);
    expect(accepted.data.user).toMatchObject({ email: account.email, role: "admin" });
    expect((await visitor.query("auth.me")).status).toBe(200);
    expect((await visitor.query("admin.stats")).status).toBe(200);

    // Once only.
    const again = t.client();
    expect(
      (await again.mutation("auth.acceptInvite", { token, username: "someone_else", password: account.password }))
        .status,
    ).toBe(404);
    expect((await again.query("auth.inviteInfo", { token })).status).toBe(404);
    const listed = ok(await admin.query<{ items: Invite[] }>("admin.invites.list")).items;
    expect(listed.find((i) => i.id === invite.id)?.status).toBe("used");
    expect((await auditRows(t, { action: "invite_accepted" })).length).toBeGreaterThanOrEqual(1);
  });

  it("stop working when revoked, replaced or expired, and refuse an address that has an account", async () => {
    const account = newAccount();
    const first = ok(await admin.mutation<Invite>("admin.invites.create", { email: account.email }));
    const firstToken = inviteLinkFrom((await t.smtp.waitFor(account.email, /invited/i)).text);
    expect(ok(await admin.mutation<Invite>("admin.invites.revoke", { id: first.id })).status).toBe("revoked");
    const accept = (token: string) =>
      t.client().mutation("auth.acceptInvite", { token, username: account.username, password: account.password });
    expect((await accept(firstToken)).status).toBe(404);

    ok(await admin.mutation("admin.invites.create", { email: account.email }));
    const mails = () => t.smtp.to(account.email).filter((m) => /invited/i.test(m.subject));
    await expect.poll(() => mails().length).toBe(2);
    const secondToken = inviteLinkFrom(mails()[1]!.text);
    await t.models.Invite.update({ expiresAt: new Date(Date.now() - 1) }, { where: { email: account.email } });
    expect((await accept(secondToken)).status).toBe(404);

    const { account: member } = await signedIn(t);
    const taken = await admin.mutation("admin.invites.create", { email: member.email });
    expect(taken.status).toBe(409);
    expect((await admin.mutation("admin.invites.revoke", { id: "nope" })).status).toBe(404);
    const { client: notAdmin } = await signedIn(t);
    expect((await notAdmin.mutation("admin.invites.create", { email: account.email })).status).toBe(403);
    expect((await notAdmin.query("admin.invites.list")).status).toBe(403);
  });
});

describe("quotas", () => {
  it("an account's own quota overrides the default, and an upload past it is refused with 413", async () => {
    const { user, client } = await signedIn(t);
    const usage = async () => ok(await client.query<{ usedBytes: number; quotaBytes: number }>("files.usage"));
    const configured = (await usage()).quotaBytes;

    ok(await admin.mutation("admin.settings.update", { defaultQuotaBytes: 2048 }));
    expect((await usage()).quotaBytes).toBe(2048);
    const set = ok(
      await admin.mutation<{ effectiveQuotaBytes: number }>("admin.users.setQuota", { id: user.id, quotaBytes: 1000 }),
    );
    expect(set.effectiveQuotaBytes).toBe(1000);
    expect((await usage()).quotaBytes).toBe(1000);
    expect(
      ok(
        await admin.query<{ quotaBytes: number | null; effectiveQuotaBytes: number }>("admin.users.get", {
          id: user.id,
        }),
      ),
    ).toMatchObject({
      quotaBytes: 1000,
      effectiveQuotaBytes: 1000,
    });

    expect((await uploadRaw(client, [{ name: "fits.bin", bytes: "x".repeat(900) }])).status).toBe(201);
    const over = await uploadRaw(client, [{ name: "over.bin", bytes: "x".repeat(200) }]);
    expect(over.status).toBe(413);
    expect(((await over.json()) as { error: { reason: string } }).error.reason).toBe("quota_exceeded");
    expect((await usage()).usedBytes).toBe(900);

    // Back to the default (2,048): the upload fits now.
    ok(await admin.mutation("admin.users.setQuota", { id: user.id, quotaBytes: null }));
    expect((await uploadRaw(client, [{ name: "fits-now.bin", bytes: "x".repeat(200) }])).status).toBe(201);
    ok(await admin.mutation("admin.settings.update", { defaultQuotaBytes: null }));
    expect((await usage()).quotaBytes).toBe(configured);

    for (const bad of [-1, 1.5, "10", 2 ** 51]) {
      expect((await admin.mutation("admin.users.setQuota", { id: user.id, quotaBytes: bad })).status).toBe(400);
    }
    expect((await admin.mutation("admin.users.setQuota", { id: "nobody", quotaBytes: 1 })).status).toBe(404);
    expect((await client.mutation("admin.users.setQuota", { id: user.id, quotaBytes: 10 ** 9 })).status).toBe(403);
  });
});

describe("required two-factor sign-in", () => {
  it("sends accounts without it to set it up first, refusing everything else with 403", async () => {
    const { client: member } = await signedIn(t);
    // Only an administrator who has it may require it.
    const early = await admin.mutation("admin.settings.update", { requireTwoFactor: "admins" });
    expect(early.status).toBe(409);
    expect(early.error!.data.fieldErrors).toHaveProperty("requireTwoFactor");
    const { secret: adminSecret } = ok(await admin.mutation<{ secret: string }>("auth.totp.setup"));
    ok(await admin.mutation("auth.totp.enable", { code: totp(adminSecret) }));
    ok(await admin.mutation("admin.settings.update", { requireTwoFactor: "admins" }));
    // Required of administrators only: a member goes on as before.
    expect((await member.query("notes.list")).status).toBe(200);
    const { client: otherAdmin } = await signedIn(t, "admin");
    const refused = await otherAdmin.query("notes.list");
    expect(refused.status).toBe(403);
    expect(refused.error!.data.reason).toBe("second_factor_setup_required");

    ok(await admin.mutation("admin.settings.update", { requireTwoFactor: "everyone" }));
    const me = ok(await member.query<{ secondFactorSetupRequired: boolean }>("auth.me"));
    expect(me.secondFactorSetupRequired).toBe(true);
    for (const [path, kind] of [
      ["notes.list", "query"],
      ["files.list", "query"],
      ["auth.apiKeys.list", "query"],
    ] as const) {
      const res = kind === "query" ? await member.query(path) : await member.mutation(path);
      expect(res.status, path).toBe(403);
    }
    // The plain routes follow the same rule.
    expect((await member.fetch("/api/v1/notes/export?format=json")).status).toBe(403);
    // What the set-up needs stays open: the set-up itself, the session list, signing out.
    expect((await member.query("auth.sessions.list")).status).toBe(200);
    const { secret } = ok(await member.mutation<{ secret: string }>("auth.totp.setup"));
    ok(await member.mutation("auth.totp.enable", { code: totp(secret) }));
    expect((await member.query("notes.list")).status).toBe(200);
    expect(ok(await member.query<{ secondFactorSetupRequired: boolean }>("auth.me")).secondFactorSetupRequired).toBe(
      false,
    );
    // A sign-in says so at once, so the web app goes straight to the set-up.
    const { account: newcomer } = await createUser(t);
    const login = await t.client().mutation<{ user: { secondFactorSetupRequired: boolean } }>("auth.login", newcomer);
    expect(login.status).toBe(200);
    expect(login.data.user.secondFactorSetupRequired).toBe(true);
  });
});

describe("mail delivery", () => {
  it("says mail goes to the log when no SMTP_URL is set, so the verify page can tell where the code went", async () => {
    const noMail = await startTestServer({ env: { SMTP_URL: "" } });
    try {
      const policy = ok(await noMail.client().query<{ mailDelivery: string }>("auth.signUpPolicy"));
      expect(policy.mailDelivery).toBe("log");
    } finally {
      await noMail.close();
    }
    expect(ok(await t.client().query<{ mailDelivery: string }>("auth.signUpPolicy")).mailDelivery).toBe("smtp");
  });
});
