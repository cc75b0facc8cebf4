// "Sign in with <provider>" through the real server against a real OpenID provider
// (support/oidc.ts: oidc-provider on a loopback port). No browser: the redirects are followed by
// hand, with Notebox's cookies (notebox_session, notebox_device, notebox_oidc, notebox_oidc_link)
// carried by the test client and the provider's by its own jar.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "@notebox/core";
import { auditRows, ok, signedIn } from "../support/admin";
import type { CallResult, TestClient } from "../support/client";
import { ProviderCookieJar, signInAtProvider, startOidcProvider, type OidcProvider } from "../support/oidc";
import {
  createUser,
  freePort,
  newAccount,
  relaxedLimits,
  signIn,
  startTestServer,
  type TestServer,
} from "../support/server";
import { totp } from "../support/totp";

const FLOW_COOKIE = "notebox_oidc";
const LINK_COOKIE = "notebox_oidc_link";
const DEVICE_COOKIE = "notebox_device";
const CALLBACK = "/api/v1/auth/oidc/callback";

type Me = { id: string; username: string; email: string; role: string } | null;
type Identity = {
  provider: string | null;
  linked: { email: string; linkedAt: string; lastUsedAt: string | null } | null;
};
type LoginAnswer = { status: string; challenge?: string; user?: { id: string }; ssoLinked?: boolean };

/** A Notebox server set up with single sign-on at `op`, and the provider. */
interface Sso {
  t: TestServer;
  op: OidcProvider;
}

const redirectUri = (port: number) => `http://localhost:${port}${CALLBACK}`;

let sso: Sso;
let t: TestServer;
let op: OidcProvider;
/** The port of the rate-limited server below, registered at the provider up front. */
let limitedPort: number;

beforeAll(async () => {
  const port = await freePort();
  limitedPort = await freePort();
  op = await startOidcProvider({ redirectUris: [redirectUri(port), redirectUri(limitedPort)] });
  t = await startTestServer({ env: { ...op.env, PORT: String(port) } });
  sso = { t, op };
});
afterAll(async () => {
  await t?.close();
  await op?.close();
});

/** A person with an account at the provider (and none here yet). */
function person(
  at: OidcProvider = op,
  { verified = true, email, username }: { verified?: boolean; email?: string; username?: string } = {},
) {
  const sub = `sub-${randomBytes(6).toString("hex")}`;
  const address = email ?? newAccount("sso").email;
  at.setAccount(sub, {
    email: address,
    email_verified: verified,
    ...(username ? { preferred_username: username } : {}),
  });
  return { sub, email: address };
}

/** GET /start: a redirect to the provider's authorization endpoint, and the flow cookie. */
async function startFlow(client: TestClient, at: Sso = sso, next: string | null = "/notes"): Promise<string> {
  const res = await client.fetch(`/api/v1/auth/oidc/start${next === null ? "" : `?next=${encodeURIComponent(next)}`}`);
  await res.body?.cancel();
  expect(res.status).toBe(302);
  expect(client.cookies.get(FLOW_COOKIE)).toBeTruthy();
  const location = new URL(res.headers.get("location")!);
  expect(`${location.origin}`).toBe(at.op.issuer);
  expect(location.searchParams.get("redirect_uri")).toBe(`${at.t.server.runtime.deps.config.publicUrl}${CALLBACK}`);
  expect(location.searchParams.get("code_challenge_method")).toBe("S256");
  expect(location.searchParams.get("state")).toBeTruthy();
  expect(location.searchParams.get("nonce")).toBeTruthy();
  return location.href;
}

/** The browser comes back from the provider to `callbackUrl` (on localhost:PORT; sent to the test server). */
async function callback(client: TestClient, callbackUrl: string): Promise<string> {
  const url = new URL(callbackUrl);
  expect(url.pathname).toBe(CALLBACK);
  const res = await client.fetch(`${url.pathname}${url.search}`);
  await res.body?.cancel();
  expect(res.status).toBe(302);
  // The flow cookie is single-use: every answer of the callback clears it.
  expect(client.cookies.has(FLOW_COOKIE)).toBe(false);
  return res.headers.get("location")!;
}

/** The whole sign-in: start, the provider, the callback. Returns where Notebox lands the browser. */
async function ssoSignIn(
  client: TestClient,
  sub: string,
  {
    at = sso,
    next = "/notes",
    jar,
    deny,
  }: { at?: Sso; next?: string | null; jar?: ProviderCookieJar; deny?: "login" | "consent" } = {},
): Promise<string> {
  const authorizationUrl = await startFlow(client, at, next);
  const back = await signInAtProvider(authorizationUrl, sub, { ...(jar ? { jar } : {}), ...(deny ? { deny } : {}) });
  return callback(client, back);
}

const ssoError = (reason: string) => `/sign-in?sso_error=${reason}`;

function expectNoSession(client: TestClient) {
  expect(client.sessionToken).toBeUndefined();
}

function expectRefused(res: CallResult, status: number, reason?: string) {
  expect(res.status, JSON.stringify(res.error)).toBe(status);
  if (reason) expect(res.error!.data.reason).toBe(reason);
}

async function me(client: TestClient): Promise<Me> {
  return ok(await client.query<Me>("auth.me"), "auth.me");
}

async function identityOf(client: TestClient): Promise<Identity> {
  return ok(await client.query<Identity>("auth.sso.identity"), "auth.sso.identity");
}

const identityRows = (at: Sso, where: { subject?: string; userId?: string }) =>
  at.t.models.SsoIdentity.findAll({ where });

/** Moves the session `client` holds back `minutes` (and the account's tokens-valid-after mark with it). */
async function ageSession(client: TestClient, minutes: number, server: TestServer = t) {
  const createdAt = new Date(Date.now() - minutes * 60_000);
  const session = await server.models.Session.findByPk(hashToken(client.sessionToken!));
  expect(session).not.toBeNull();
  await server.models.User.update(
    { tokensValidAfter: new Date(createdAt.getTime() - 1000) },
    { where: { id: session!.userId } },
  );
  await session!.update({ createdAt });
}

/** Runs `body` with admin settings changed, and puts them back afterwards. */
async function withSettings(
  admin: TestClient,
  changes: Record<string, unknown>,
  restore: Record<string, unknown>,
  body: () => Promise<void>,
) {
  ok(await admin.mutation("admin.settings.update", changes), "admin.settings.update");
  try {
    await body();
  } finally {
    ok(await admin.mutation("admin.settings.update", restore), "admin.settings.update (restore)");
  }
}

describe("a first sign-in of a new person", () => {
  it("creates a verified account with a derived username, signs in, and signs the same account in again", async () => {
    const username = `Jane Doe ${randomBytes(2).toString("hex")}`;
    const { sub, email } = person(op, { username });
    const browser = t.client();
    expect(await ssoSignIn(browser, sub)).toBe("/notes");
    expect(browser.sessionToken).toBeTruthy();
    expect(browser.cookies.get(DEVICE_COOKIE)).toBeTruthy();

    const account = await me(browser);
    expect(account).toMatchObject({ email, role: "user", username: username.replace(/ /g, "_") });
    const row = await t.models.User.findByPk(account!.id);
    expect(row!.emailVerifiedAt).not.toBeNull();
    expect(row!.disabledAt).toBeNull();
    const identity = await identityOf(browser);
    expect(identity).toMatchObject({ provider: "Test SSO", linked: { email } });
    expect(Date.parse(identity.linked!.linkedAt)).not.toBeNaN();

    const linked = await auditRows(t, { action: "sso_linked", targetUserId: account!.id });
    expect(linked).toHaveLength(1);
    expect(linked[0]!.details).toMatchObject({ issuer: op.issuer, email, created: true });
    const signIns = await auditRows(t, { action: "sign_in", targetUserId: account!.id });
    expect(signIns.at(-1)!.details).toMatchObject({ method: "sso" });

    // Another browser, the same identity: the same account, no second one.
    const again = t.client();
    expect(await ssoSignIn(again, sub)).toBe("/notes");
    expect((await me(again))!.id).toBe(account!.id);
    expect(await t.models.User.count({ where: { email } })).toBe(1);
    expect(await identityRows(sso, { subject: sub })).toHaveLength(1);
    expect((await identityOf(again)).linked!.lastUsedAt).not.toBeNull();
    // The first browser's session is untouched by the second sign-in.
    expect((await me(browser))!.id).toBe(account!.id);
    expect(op.serverErrors).toEqual([]);
  });

  it("derives the username from the email's local part when the provider gives none", async () => {
    const { sub, email } = person();
    const browser = t.client();
    expect(await ssoSignIn(browser, sub, { next: null })).toBe("/");
    expect((await me(browser))!.username).toBe(email.split("@")[0]!.slice(0, 24));
  });
});

describe("a sign-in that cannot finish", () => {
  it("refuses a callback whose state was tampered with (sso_failed), and a forged code", async () => {
    const { sub, email } = person();
    const browser = t.client();
    const back = new URL(await signInAtProvider(await startFlow(browser), sub));
    const flow = browser.cookies.get(FLOW_COOKIE)!;
    const tampered = new URL(back);
    tampered.searchParams.set("state", `${back.searchParams.get("state")}x`);
    expect(await callback(browser, tampered.href)).toBe(ssoError("sso_failed"));
    expectNoSession(browser);

    // The right state with a code the provider never issued.
    const forged = new URL(back);
    forged.searchParams.set("code", randomBytes(32).toString("base64url"));
    browser.cookies.set(FLOW_COOKIE, flow);
    expect(await callback(browser, forged.href)).toBe(ssoError("sso_failed"));
    expectNoSession(browser);
    expect(await t.models.User.count({ where: { email } })).toBe(0);
    expect(await identityRows(sso, { subject: sub })).toHaveLength(0);
  });

  it("refuses a replayed code, with the same flow cookie and with a fresh one", async () => {
    const { sub } = person();
    const first = t.client();
    const back = await signInAtProvider(await startFlow(first), sub);
    const flow = first.cookies.get(FLOW_COOKIE)!;
    expect(await callback(first, back)).toBe("/notes");
    const userId = (await me(first))!.id;
    const sessions = await t.models.Session.count({ where: { userId } });

    // Another browser replays the callback URL with the flow cookie of the first (state, nonce and
    // PKCE verifier all match): only the code is spent.
    const replay = t.client();
    replay.cookies.set(FLOW_COOKIE, flow);
    expect(await callback(replay, back)).toBe(ssoError("sso_failed"));
    expectNoSession(replay);

    // With a flow of its own.
    const fresh = t.client();
    await startFlow(fresh);
    expect(await callback(fresh, back)).toBe(ssoError("sso_failed"));
    expectNoSession(fresh);

    // The first browser itself, its flow cookie put back.
    first.cookies.set(FLOW_COOKIE, flow);
    const before = first.sessionToken;
    expect(await callback(first, back)).toBe(ssoError("sso_failed"));
    expect(first.sessionToken).toBe(before);
    expect(await t.models.Session.count({ where: { userId } })).toBe(sessions);
  });

  it("answers sso_expired without the flow cookie or with a broken one, and leaves the code unspent", async () => {
    const { sub } = person();
    const browser = t.client();
    const back = await signInAtProvider(await startFlow(browser), sub);

    const elsewhere = t.client();
    expect(await callback(elsewhere, back)).toBe(ssoError("sso_expired"));
    expectNoSession(elsewhere);
    const broken = t.client();
    broken.cookies.set(FLOW_COOKIE, `${browser.cookies.get(FLOW_COOKIE)!.slice(0, -4)}AAAA`);
    expect(await callback(broken, back)).toBe(ssoError("sso_expired"));
    expectNoSession(broken);
    const garbage = t.client();
    garbage.cookies.set(FLOW_COOKIE, "not-a-sealed-value");
    expect(await callback(garbage, back)).toBe(ssoError("sso_expired"));

    // The browser that started it still finishes: nothing above reached the provider.
    expect(await callback(browser, back)).toBe("/notes");
    expect(browser.sessionToken).toBeTruthy();
  });

  it("signs in normally when the browser brings a revoked session cookie", async () => {
    const { account } = await createUser(t);
    const browser = await signIn(t, account);
    const token = browser.sessionToken!;
    ok(await browser.mutation("auth.logout"));
    browser.cookies.set("notebox_session", token);
    const { sub, email } = person();
    expect(await ssoSignIn(browser, sub)).toBe("/notes");
    expect(browser.sessionToken).not.toBe(token);
    expect((await me(browser))!.email).toBe(email);
  });

  it("creates one account when the same new identity comes back twice at once", async () => {
    const { sub, email } = person();
    const a = t.client();
    const b = t.client();
    const backA = await signInAtProvider(await startFlow(a), sub);
    const backB = await signInAtProvider(await startFlow(b), sub);
    const landed = await Promise.all([callback(a, backA), callback(b, backB)]);
    expect(landed).toContain("/notes");
    for (const location of landed) expect(["/notes", ssoError("sso_failed")]).toContain(location);
    expect(await t.models.User.count({ where: { email } })).toBe(1);
    expect(await identityRows(sso, { subject: sub })).toHaveLength(1);
  });

  it("answers sso_cancelled when the person cancels or denies at the provider", async () => {
    for (const deny of ["login", "consent"] as const) {
      const { sub, email } = person();
      const browser = t.client();
      expect(await ssoSignIn(browser, sub, { deny })).toBe(ssoError("sso_cancelled"));
      expectNoSession(browser);
      expect(await t.models.User.count({ where: { email } })).toBe(0);
    }
  });

  it("refuses an email the provider has not verified (sso_email_unverified), creating and linking nothing", async () => {
    const { sub, email } = person(op, { verified: false });
    const browser = t.client();
    expect(await ssoSignIn(browser, sub)).toBe(ssoError("sso_email_unverified"));
    expectNoSession(browser);
    expect(await t.models.User.count({ where: { email } })).toBe(0);
    expect(await identityRows(sso, { subject: sub })).toHaveLength(0);

    // Nor does an unverified address offer to link the existing account that has it.
    const { account } = await createUser(t);
    const claimant = person(op, { verified: false, email: account.email });
    const other = t.client();
    expect(await ssoSignIn(other, claimant.sub)).toBe(ssoError("sso_email_unverified"));
    expect(other.cookies.has(LINK_COOKIE)).toBe(false);
    expectNoSession(other);
  });

  it("refuses a disabled account with a linked identity (account_disabled), and signs it in once enabled", async () => {
    const admin = await signedIn(t, "admin");
    const { sub } = person();
    const first = t.client();
    expect(await ssoSignIn(first, sub)).toBe("/notes");
    const userId = (await me(first))!.id;

    ok(await admin.client.mutation("admin.users.setDisabled", { id: userId, disabled: true }), "setDisabled");
    const browser = t.client();
    expect(await ssoSignIn(browser, sub)).toBe(ssoError("account_disabled"));
    expectNoSession(browser);
    const failed = await auditRows(t, { action: "sign_in_failed", targetUserId: userId });
    expect(failed.at(-1)!.details).toMatchObject({ reason: "account_disabled" });

    ok(await admin.client.mutation("admin.users.setDisabled", { id: userId, disabled: false }), "setDisabled");
    const later = t.client();
    expect(await ssoSignIn(later, sub)).toBe("/notes");
    expect((await me(later))!.id).toBe(userId);
  });
});

describe("an existing account with the same verified email", () => {
  it("is linked only after its own password sign-in (auto-link off)", async () => {
    const owner = await createUser(t);
    const other = await createUser(t);
    const { sub } = person(op, { email: owner.account.email });

    const browser = t.client();
    expect(await ssoSignIn(browser, sub)).toBe("/sign-in?sso=link");
    expectNoSession(browser);
    const linkCookie = browser.cookies.get(LINK_COOKIE);
    expect(linkCookie).toBeTruthy();
    expect(await identityRows(sso, { subject: sub })).toHaveLength(0);

    // Another account's password sign-in in that browser signs it in and links nothing.
    const signedInOther = ok(
      await browser.mutation<LoginAnswer>("auth.login", {
        email: other.account.email,
        password: other.account.password,
      }),
    );
    expect(signedInOther).toMatchObject({ status: "signed_in", ssoLinked: false });
    expect(signedInOther.user!.id).toBe(other.user.id);
    expect(browser.cookies.has(LINK_COOKIE)).toBe(false);
    expect(await identityRows(sso, { subject: sub })).toHaveLength(0);
    expect(await identityRows(sso, { userId: other.user.id })).toHaveLength(0);

    // The owner mistypes the password: no link.
    const ownerBrowser = t.client();
    ownerBrowser.cookies.set(LINK_COOKIE, linkCookie!);
    expectRefused(
      await ownerBrowser.mutation("auth.login", { email: owner.account.email, password: `${owner.account.password}!` }),
      401,
    );
    expect(await identityRows(sso, { subject: sub })).toHaveLength(0);

    // The owner's password links it.
    const linked = ok(
      await ownerBrowser.mutation<LoginAnswer>("auth.login", {
        email: owner.account.email,
        password: owner.account.password,
      }),
    );
    expect(linked).toMatchObject({ status: "signed_in", ssoLinked: true });
    expect(ownerBrowser.cookies.has(LINK_COOKIE)).toBe(false);
    const rows = await identityRows(sso, { subject: sub });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ userId: owner.user.id, issuer: op.issuer, email: owner.account.email });
    expect((await identityOf(ownerBrowser)).linked).toMatchObject({ email: owner.account.email });
    const audit = await auditRows(t, { action: "sso_linked", targetUserId: owner.user.id });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ issuer: op.issuer, email: owner.account.email });

    // The next single sign-on signs straight in.
    const next = t.client();
    expect(await ssoSignIn(next, sub)).toBe("/notes");
    expect((await me(next))!.id).toBe(owner.user.id);
  });

  it("signs its owner in when the account has another identity linked already (the link is not made)", async () => {
    const { user, account } = await createUser(t);
    const browser = await signIn(t, account);
    const first = person(op, { email: `first.${randomBytes(3).toString("hex")}@provider.example` });
    expect(await ssoSignIn(browser, first.sub)).toBe("/notes");

    const second = person(op, { email: account.email });
    const other = t.client();
    expect(await ssoSignIn(other, second.sub)).toBe("/sign-in?sso=link");
    const res = await other.mutation<LoginAnswer>("auth.login", { email: account.email, password: account.password });
    // The password was right and a session cookie is set: the answer must not say the sign-in failed.
    expect(res.status, JSON.stringify(res.error)).toBe(200);
    expect(res.data).toMatchObject({ status: "signed_in", ssoLinked: false });
    expect((await me(other))!.id).toBe(user.id);
    const rows = await identityRows(sso, { userId: user.id });
    expect(rows.map((r) => r.subject)).toEqual([first.sub]);
  });

  it("is linked at once with auto-link on", async () => {
    const admin = await signedIn(t, "admin");
    const owner = await createUser(t);
    const { sub } = person(op, { email: owner.account.email });
    await withSettings(admin.client, { ssoAutoLink: true }, { ssoAutoLink: false }, async () => {
      const browser = t.client();
      expect(await ssoSignIn(browser, sub)).toBe("/notes");
      expect((await me(browser))!.id).toBe(owner.user.id);
      expect(browser.cookies.has(LINK_COOKIE)).toBe(false);
      const audit = await auditRows(t, { action: "sso_linked", targetUserId: owner.user.id });
      expect(audit).toHaveLength(1);
      expect(audit[0]!.details).toMatchObject({ automatic: true, email: owner.account.email });

      // Auto-link still needs the provider to have verified the address.
      const victim = await createUser(t);
      const claimant = person(op, { verified: false, email: victim.account.email });
      const other = t.client();
      expect(await ssoSignIn(other, claimant.sub)).toBe(ssoError("sso_email_unverified"));
      expect(await identityRows(sso, { userId: victim.user.id })).toHaveLength(0);
    });
  });
});

describe("sign-up rules", () => {
  it("refuses a new person when sign-up is by invitation or closed, or the domain is not allowed", async () => {
    const admin = await signedIn(t, "admin");
    const member = person();
    const memberBrowser = t.client();
    expect(await ssoSignIn(memberBrowser, member.sub)).toBe("/notes");
    const memberId = (await me(memberBrowser))!.id;

    for (const signUp of ["invite", "closed"]) {
      await withSettings(admin.client, { signUp }, { signUp: "open" }, async () => {
        const { sub, email } = person();
        const browser = t.client();
        expect(await ssoSignIn(browser, sub)).toBe(ssoError("sso_sign_up_closed"));
        expectNoSession(browser);
        expect(await t.models.User.count({ where: { email } })).toBe(0);
        expect(await identityRows(sso, { subject: sub })).toHaveLength(0);
        // An identity linked already still signs in.
        const known = t.client();
        expect(await ssoSignIn(known, member.sub)).toBe("/notes");
        expect((await me(known))!.id).toBe(memberId);
      });
    }

    await withSettings(admin.client, { allowedDomains: ["allowed.example"] }, { allowedDomains: [] }, async () => {
      const { sub, email } = person();
      const browser = t.client();
      expect(await ssoSignIn(browser, sub)).toBe(ssoError("sso_sign_up_closed"));
      expect(await t.models.User.count({ where: { email } })).toBe(0);

      const allowed = person(op, { email: `sso.${randomBytes(4).toString("hex")}@Allowed.Example` });
      const ok2 = t.client();
      expect(await ssoSignIn(ok2, allowed.sub)).toBe("/notes");
      expect((await me(ok2))!.email).toBe(allowed.email.toLowerCase());
    });
  });
});

describe("two-factor sign-in", () => {
  it("links through password + code, then asks for the code after the provider and signs in with it", async () => {
    const { user, account } = await createUser(t);
    const client = await signIn(t, account);
    const { secret } = ok(await client.mutation<{ secret: string }>("auth.totp.setup"));
    ok(await client.mutation("auth.totp.enable", { code: totp(secret, -1) }), "totp.enable");
    const { sub } = person(op, { email: account.email });

    // First sign-in: the link waits for the password and the second factor.
    const browser = t.client();
    expect(await ssoSignIn(browser, sub)).toBe("/sign-in?sso=link");
    const first = ok(
      await browser.mutation<LoginAnswer>("auth.login", { email: account.email, password: account.password }),
    );
    expect(first.status).toBe("second_factor_required");
    expect(await identityRows(sso, { subject: sub })).toHaveLength(0);
    const finished = ok(
      await browser.mutation<LoginAnswer>("auth.loginSecondFactor", { challenge: first.challenge, code: totp(secret) }),
    );
    expect(finished).toMatchObject({ status: "signed_in", ssoLinked: true });
    expect(await identityRows(sso, { userId: user.id })).toHaveLength(1);

    // Then single sign-on gives the challenge, not a session.
    const next = t.client();
    const location = await ssoSignIn(next, sub);
    const challenge = /^\/sign-in#challenge=(.+)$/.exec(location)?.[1];
    expect(challenge, location).toBeTruthy();
    expectNoSession(next);
    expectRefused(
      await next.mutation("auth.loginSecondFactor", { challenge, code: totp(secret, 5) }),
      401,
      "wrong_second_factor",
    );
    expectNoSession(next);
    const signedInNext = ok(
      await next.mutation<LoginAnswer>("auth.loginSecondFactor", { challenge, code: totp(secret, 1) }),
    );
    expect(signedInNext).toMatchObject({ status: "signed_in", ssoLinked: false });
    expect((await me(next))!.id).toBe(user.id);
  });
});

describe("linking from a signed-in session", () => {
  it("links an unlinked identity with another email to the signed-in account", async () => {
    const { user, account } = await createUser(t);
    const browser = await signIn(t, account);
    const oldToken = browser.sessionToken!;
    const { sub, email } = person(op, { email: `elsewhere.${randomBytes(4).toString("hex")}@provider.example` });

    expect(await ssoSignIn(browser, sub)).toBe("/notes");
    expect(browser.sessionToken).toBeTruthy();
    expect(browser.sessionToken).not.toBe(oldToken);
    expect((await me(browser))!.id).toBe(user.id);
    expect((await identityOf(browser)).linked).toMatchObject({ email });
    expect(await t.models.User.count({ where: { email } })).toBe(0);
    // The session the browser had is ended.
    const stale = t.client();
    stale.cookies.set("notebox_session", oldToken);
    expect(await me(stale)).toBeNull();

    const next = t.client();
    expect(await ssoSignIn(next, sub)).toBe("/notes");
    expect((await me(next))!.id).toBe(user.id);

    // A second identity for the same account is refused, and the session stays.
    const second = person();
    const token = browser.sessionToken;
    expect(await ssoSignIn(browser, second.sub)).toBe(ssoError("sso_already_linked"));
    expect(browser.sessionToken).toBe(token);
    expect((await me(browser))!.id).toBe(user.id);
    expect(await identityRows(sso, { subject: second.sub })).toHaveLength(0);
  });
});

describe("unlinking", () => {
  it("needs a fresh proof; afterwards the identity must be linked again", async () => {
    const { user, account } = await createUser(t);
    const browser = await signIn(t, account);
    const { sub } = person(op, { email: account.email });
    expect(await ssoSignIn(browser, sub)).toBe("/notes");
    expect((await identityOf(browser)).linked).not.toBeNull();

    // A session just signed in is proof enough.
    expect(ok(await browser.mutation("auth.sso.unlink", {}))).toEqual({ status: "unlinked" });
    expect((await identityOf(browser)).linked).toBeNull();
    expectRefused(await browser.mutation("auth.sso.unlink", {}), 404);
    expect(await auditRows(t, { action: "sso_unlinked", targetUserId: user.id })).toHaveLength(1);

    // Linked again; then the session is 11 minutes old.
    expect(await ssoSignIn(browser, sub)).toBe("/notes");
    expect((await identityOf(browser)).linked).not.toBeNull();
    await ageSession(browser, 11);
    expect((await me(browser))!.id).toBe(user.id);
    expectRefused(await browser.mutation("auth.sso.unlink", {}), 403, "fresh_proof_required");
    const wrong = await browser.mutation("auth.sso.unlink", { password: `${account.password}!` });
    expectRefused(wrong, 400);
    expect(wrong.error!.data.fieldErrors).toHaveProperty("password");
    expect((await identityOf(browser)).linked).not.toBeNull();
    expect(ok(await browser.mutation("auth.sso.unlink", { password: account.password }))).toEqual({
      status: "unlinked",
    });
    expect(await identityRows(sso, { userId: user.id })).toHaveLength(0);

    // Not linked any more: the same verified email asks for the password again.
    const next = t.client();
    expect(await ssoSignIn(next, sub)).toBe("/sign-in?sso=link");
    expectNoSession(next);
    expect(next.cookies.get(LINK_COOKIE)).toBeTruthy();
  });
});

describe("password sign-in off", () => {
  it("refuses members' passwords and sign-up, keeps admins', and says so in the sign-up policy", async () => {
    const admin = await signedIn(t, "admin");
    const member = await createUser(t);
    const before = ok(await t.client().query("auth.signUpPolicy"));
    expect(before).toEqual({
      signUp: "open",
      allowedDomains: [],
      passwordSignIn: true,
      sso: { name: "Test SSO" },
      mailDelivery: "smtp",
    });

    await withSettings(admin.client, { passwordSignIn: false }, { passwordSignIn: true }, async () => {
      const settings = ok(await admin.client.query<{ passwordSignIn: boolean }>("admin.settings.get"));
      expect(settings.passwordSignIn).toBe(false);

      const memberBrowser = t.client();
      expectRefused(
        await memberBrowser.mutation("auth.login", { email: member.account.email, password: member.account.password }),
        403,
        "password_sign_in_disabled",
      );
      expectNoSession(memberBrowser);

      const adminBrowser = t.client();
      const adminLogin = ok(
        await adminBrowser.mutation<LoginAnswer>("auth.login", {
          email: admin.account.email,
          password: admin.account.password,
        }),
      );
      expect(adminLogin.status).toBe("signed_in");
      expect((await me(adminBrowser))!.id).toBe(admin.user.id);

      const newcomer = newAccount();
      expectRefused(await t.client().mutation("auth.register", newcomer), 403, "password_sign_in_disabled");
      expect(await t.models.User.count({ where: { email: newcomer.email } })).toBe(0);

      expect(ok(await t.client().query("auth.signUpPolicy"))).toEqual({
        signUp: "open",
        allowedDomains: [],
        passwordSignIn: false,
        sso: { name: "Test SSO" },
        mailDelivery: "smtp",
      });

      // Single sign-on still signs people up and in.
      const { sub } = person();
      const browser = t.client();
      expect(await ssoSignIn(browser, sub)).toBe("/notes");
      expect(await me(browser)).not.toBeNull();
    });

    expect(
      ok(
        await t.client().mutation<LoginAnswer>("auth.login", {
          email: member.account.email,
          password: member.account.password,
        }),
      ).status,
    ).toBe("signed_in");
  });
});

describe("where the sign-in lands", () => {
  it("lands on a path of this site only", async () => {
    const { sub } = person();
    const jar = new ProviderCookieJar();
    const cases: [string, string][] = [
      ["//evil.example", "/"],
      ["//evil.example/notes", "/"],
      ["https://evil.example/", "/"],
      ["/\\evil.example", "/"],
      ["notes", "/"],
      ["/notes/abc?tab=files", "/notes/abc?tab=files"],
    ];
    for (const [next, landing] of cases) {
      const browser = t.client();
      expect(await ssoSignIn(browser, sub, { next, jar }), next).toBe(landing);
      expect(browser.sessionToken).toBeTruthy();
    }
  });

  it("does not land elsewhere through characters a browser strips from a URL (tab)", async () => {
    const { sub } = person();
    const origin = new URL(t.server.runtime.deps.config.publicUrl).origin;
    const browser = t.client();
    const location = await ssoSignIn(browser, sub, { next: "/\t/evil.example/x" });
    // A browser removes tabs and newlines before resolving a Location: "/\t/evil" is "//evil".
    expect(new URL(location, origin).origin, JSON.stringify(location)).toBe(origin);
  });

  it("answers a redirect, not a 500, for a `next` with a line break", async () => {
    const { sub } = person();
    const browser = t.client();
    const back = await signInAtProvider(await startFlow(browser, sso, "/a\r\nb"), sub);
    const url = new URL(back);
    const res = await browser.fetch(`${url.pathname}${url.search}`);
    const body = await res.text();
    expect(res.status, body).toBe(302);
    expect(res.headers.get("location")).toBe("/");
  });
});

describe("too many attempts", () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({
      env: { ...op.env, PORT: String(limitedPort) },
      limitRules: { ...relaxedLimits, loginPerIp: { points: 3, duration: 60 } },
    });
  });
  afterAll(() => limited?.close());

  it("answers too_many_requests at the callback and at the start", async () => {
    const at = { t: limited, op };
    const { sub } = person();
    const jar = new ProviderCookieJar();
    const browser = limited.client();
    expect(await ssoSignIn(browser, sub, { at, jar })).toBe("/notes"); // 2 points
    const other = limited.client();
    const back = await signInAtProvider(await startFlow(other, at), sub, { jar }); // 3
    expect(await callback(other, back)).toBe(ssoError("too_many_requests"));
    expectNoSession(other);
    const res = await limited.client().fetch("/api/v1/auth/oidc/start?next=/notes");
    await res.body?.cancel();
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(ssoError("too_many_requests"));
  });
});

describe("claims in the ID token", () => {
  let idt: Sso;
  beforeAll(async () => {
    const port = await freePort();
    const provider = await startOidcProvider({
      redirectUris: [redirectUri(port)],
      claimsInIdToken: true,
      name: "ID SSO",
    });
    idt = { op: provider, t: await startTestServer({ env: { ...provider.env, PORT: String(port) } }) };
  });
  afterAll(async () => {
    await idt?.t.close();
    await idt?.op.close();
  });

  it("signs a new person up and in from the ID token's claims", async () => {
    const username = `idt_${randomBytes(3).toString("hex")}`;
    const { sub, email } = person(idt.op, { username });
    const browser = idt.t.client();
    expect(await ssoSignIn(browser, sub, { at: idt })).toBe("/notes");
    expect(await me(browser)).toMatchObject({ email, username });
    expect(await identityOf(browser)).toMatchObject({ provider: "ID SSO", linked: { email } });

    const unverified = person(idt.op, { verified: false });
    const other = idt.t.client();
    expect(await ssoSignIn(other, unverified.sub, { at: idt })).toBe(ssoError("sso_email_unverified"));
    expect(idt.op.serverErrors).toEqual([]);
  });
});

describe("without single sign-on set up", () => {
  let plain: TestServer;
  beforeAll(async () => {
    plain = await startTestServer();
  });
  afterAll(() => plain?.close());

  it("answers 404 JSON at /start and /callback", async () => {
    for (const path of ["/api/v1/auth/oidc/start?next=/notes", `${CALLBACK}?code=abc&state=def`]) {
      const res = await plain.client().fetch(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/application\/json/);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
      expect(res.headers.getSetCookie().filter((c) => c.startsWith(`${FLOW_COOKIE}=`))).toEqual([]);
    }
  });

  it("refuses to turn password sign-in off (409 on passwordSignIn), and reports no provider", async () => {
    const admin = await signedIn(plain, "admin");
    const res = await admin.client.mutation("admin.settings.update", { passwordSignIn: false });
    expectRefused(res, 409);
    expect(res.error!.data.fieldErrors).toHaveProperty("passwordSignIn");
    expect(ok(await admin.client.query<{ passwordSignIn: boolean }>("admin.settings.get")).passwordSignIn).toBe(true);
    expect(ok(await plain.client().query("auth.signUpPolicy"))).toEqual({
      signUp: "open",
      allowedDomains: [],
      passwordSignIn: true,
      sso: null,
      mailDelivery: "smtp",
    });
    const { account } = await createUser(plain);
    await signIn(plain, account);
  });
});
