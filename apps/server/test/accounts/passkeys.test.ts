// Passkeys (WebAuthn) through the real server: the attestations and assertions come from a
// software authenticator written out on node:crypto (test/support/webauthn.ts), not from the
// server's library, and reach the server as a browser's JSON over HTTP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "@notebox/api";
import { hashToken } from "@notebox/core";
import { auditRows, bearer, createKey, ok, tokenFromKey } from "../support/admin";
import type { CallResult, TestClient } from "../support/client";
import { createUser, signIn, startTestServer, type TestServer } from "../support/server";
import { totp } from "../support/totp";
import {
  AuthenticatorError,
  SoftAuthenticator,
  userHandleOf,
  type CreateTweaks,
  type CreationOptionsJSON,
  type GetTweaks,
  type RegistrationResponseJSON,
  type RequestOptionsJSON,
} from "../support/webauthn";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

type Passkey = { id: string; name: string; createdAt: string; lastUsedAt: string | null; backedUp: boolean };
type SignedInUser = {
  id: string;
  email: string;
  twoFactorEnabled: boolean;
  secondFactorSetupRequired: boolean;
  mustChangePassword: boolean;
};
type LoginAnswer = { status: string; challenge?: string; user?: SignedInUser };
type Me = SignedInUser | null;

/** The page's origin, as the browser puts it in clientDataJSON: PUBLIC_URL's. */
const pageOrigin = (server: TestServer = t) => new URL(server.server.runtime.deps.config.publicUrl).origin;
const rpId = (server: TestServer = t) => new URL(server.server.runtime.deps.config.publicUrl).hostname;

/** A new authenticator on this server's pages. */
const device = (server: TestServer = t) => new SoftAuthenticator(pageOrigin(server));

async function registrationFor(client: TestClient, authenticator: SoftAuthenticator, tweaks?: CreateTweaks) {
  const options = ok(await client.mutation<CreationOptionsJSON>("auth.passkeys.registerOptions"), "registerOptions");
  return { options, response: authenticator.create(options, tweaks) };
}

/** Registers a new passkey of `authenticator` for the account `client` is signed in to. */
async function register(
  client: TestClient,
  authenticator: SoftAuthenticator,
  { name, ...tweaks }: CreateTweaks & { name?: string } = {},
): Promise<CallResult<{ passkey: Passkey }>> {
  const { response } = await registrationFor(client, authenticator, tweaks);
  return client.mutation<{ passkey: Passkey }>("auth.passkeys.register", { response, ...(name ? { name } : {}) });
}

/** A passkey sign-in from the sign-in page: options, the authenticator's assertion, login. */
async function passkeySignIn(authenticator: SoftAuthenticator, tweaks?: GetTweaks, client = t.client()) {
  const options = ok(await client.mutation<RequestOptionsJSON>("auth.passkeys.loginOptions"), "loginOptions");
  const response = authenticator.get(options, tweaks);
  const res = await client.mutation<LoginAnswer>("auth.passkeys.login", { response });
  return { client, res, response };
}

/** A signed-in account with one passkey on `authenticator`. */
async function withPasskey(server: TestServer = t, options: { role?: "user" | "admin" } = {}) {
  const { user, account } = await createUser(server, options);
  const client = await signIn(server, account, server.client());
  const authenticator = device(server);
  const passkey = ok(await register(client, authenticator), "register").passkey;
  await server.smtp.waitFor(account.email, /passkey was added/i);
  return { user, account, client, authenticator, passkey, credential: authenticator.credentials[0]! };
}

/** Turns on two-factor sign-in with an authenticator app for the signed-in `client`; its secret. */
async function enableTotp(client: TestClient) {
  const { secret } = ok(await client.mutation<{ secret: string }>("auth.totp.setup"));
  ok(await client.mutation("auth.totp.enable", { code: totp(secret) }));
  return secret;
}

/**
 * Moves the session `client` holds back in time, as if it had signed in `minutes` ago (and the
 * account's tokens-valid-after mark with it, which would otherwise end a session that old).
 */
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

function expectRefused(res: CallResult, status: number, reason?: string) {
  expect(res.status, JSON.stringify(res.error)).toBe(status);
  if (reason) expect(res.error!.data.reason).toBe(reason);
}

function expectNoSession(client: TestClient, res: CallResult) {
  expect(client.sessionToken).toBeUndefined();
  expect(res.setCookies.filter((c) => c.startsWith(`${SESSION_COOKIE}=`) && !/max-age=0/i.test(c))).toEqual([]);
}

describe("registering a passkey", () => {
  it("offers options for this account, keeps the passkey, lists and renames it, and tells the owner", async () => {
    const { user, account } = await createUser(t);
    const client = await signIn(t, account);
    const options = ok(await client.mutation<CreationOptionsJSON>("auth.passkeys.registerOptions"));
    expect(options.rp).toEqual({ id: rpId(), name: "Notebox" });
    expect(rpId()).toBe("localhost");
    expect(options.user).toEqual({ id: userHandleOf(user.id), name: account.email, displayName: account.username });
    expect(options.authenticatorSelection).toMatchObject({ residentKey: "required", userVerification: "required" });
    expect(options.excludeCredentials).toEqual([]);
    expect(options.pubKeyCredParams.map((p) => p.alg)).toContain(-7);
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{16,}$/);

    const laptop = device();
    const response = laptop.create(options);
    const added = await client.mutation<{ passkey: Passkey }>("auth.passkeys.register", {
      response,
      name: "  Laptop  ",
    });
    expect(added.status, JSON.stringify(added.error)).toBe(200);
    const first = added.data.passkey;
    expect(first).toMatchObject({ name: "Laptop", lastUsedAt: null, backedUp: false });
    expect(Date.parse(first.createdAt)).not.toBeNaN();
    const mail = await t.smtp.waitFor(account.email, /passkey was added/i);
    expect(mail.text).toMatch(/passkey/i);
    const audit = await auditRows(t, { action: "passkey_added", targetUserId: user.id });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorId: user.id, details: { passkeyId: first.id, name: "Laptop" } });
    // Stored with the credential's id and public key, under the account.
    const row = await t.models.Passkey.findByPk(first.id);
    expect(row).toMatchObject({ userId: user.id, credentialId: response.id, counter: 0 });
    expect((await t.models.User.findByPk(user.id))!.passkeyCount).toBe(1);

    // A synced passkey from a password manager, unnamed: named by its number, shown as backed up.
    const phone = device();
    const second = ok(await register(client, phone, { synced: true })).passkey;
    expect(second).toMatchObject({ name: "Passkey 2", backedUp: true });
    await t.smtp.waitFor(account.email, /passkey was added/i);

    const list = ok(await client.query<{ items: Passkey[]; nextCursor: null }>("auth.passkeys.list"));
    expect(list).toEqual({ items: [first, second], nextCursor: null });

    const renamed = ok(
      await client.mutation<{ passkey: Passkey }>("auth.passkeys.rename", { id: first.id, name: " Work laptop " }),
    );
    expect(renamed.passkey).toEqual({ ...first, name: "Work laptop" });
    for (const name of ["", "   ", "x".repeat(101), 42, null]) {
      const res = await client.mutation("auth.passkeys.rename", { id: first.id, name });
      expect(res.status, JSON.stringify(name)).toBe(400);
      expect(res.error!.data.fieldErrors).toHaveProperty("name");
    }
    expect((await client.mutation("auth.passkeys.rename", { id: first.id, name: "a\u0000b" })).status).toBe(400);
    const after = ok(await client.query<{ items: Passkey[] }>("auth.passkeys.list")).items;
    expect(after.map((p) => p.name)).toEqual(["Work laptop", "Passkey 2"]);

    // The next options exclude both, so an authenticator does not make a second passkey here.
    const next = ok(await client.mutation<CreationOptionsJSON>("auth.passkeys.registerOptions"));
    expect(new Set(next.excludeCredentials!.map((c) => c.id))).toEqual(new Set([response.id, b64(phone)]));
  });

  it("refuses the same authenticator twice: the authenticator itself, and the server if it is forced", async () => {
    const { client, authenticator, credential, account, user } = await withPasskey();
    const options = ok(await client.mutation<CreationOptionsJSON>("auth.passkeys.registerOptions"));
    expect(options.excludeCredentials!.map((c) => c.id)).toEqual([credential.id.toString("base64url")]);
    expect(() => authenticator.create(options)).toThrow(AuthenticatorError);
    try {
      authenticator.create(options);
    } catch (error) {
      expect((error as AuthenticatorError).name).toBe("InvalidStateError");
    }
    // A client that sends the same credential again anyway: 409, nothing added.
    const forced = await register(client, authenticator, { reuse: credential, counter: 3 });
    expectRefused(forced, 409, "passkey_exists");
    expect(ok(await client.query<{ items: Passkey[] }>("auth.passkeys.list")).items).toHaveLength(1);
    expect((await t.models.User.findByPk(user.id))!.passkeyCount).toBe(1);
    // Nor can another account claim the credential.
    const other = await createUser(t);
    const otherClient = await signIn(t, other.account);
    expectRefused(await register(otherClient, authenticator, { reuse: credential, counter: 4 }), 409, "passkey_exists");
    expect(ok(await otherClient.query<{ items: Passkey[] }>("auth.passkeys.list")).items).toEqual([]);
    expect(t.smtp.to(account.email).filter((m) => /passkey was added/i.test(m.subject))).toHaveLength(1);
  });

  it("takes each challenge once, within 5 minutes, for the account and the ceremony it was given for", async () => {
    const { user, account } = await createUser(t);
    const client = await signIn(t, account);
    const authenticator = device();
    const { response } = await registrationFor(client, authenticator);
    ok(await client.mutation("auth.passkeys.register", { response }));
    // The same response again: its challenge is used up.
    expectRefused(await client.mutation("auth.passkeys.register", { response }), 401, "challenge_expired");

    // Another account's challenge.
    const other = await createUser(t);
    const otherClient = await signIn(t, other.account);
    const { response: forOther } = await registrationFor(otherClient, device());
    expectRefused(await client.mutation("auth.passkeys.register", { response: forOther }), 401, "challenge_expired");

    // A sign-in challenge answered as a registration.
    const login = ok(await t.client().mutation<RequestOptionsJSON>("auth.passkeys.loginOptions"));
    const crossed = await register(client, device(), { challenge: login.challenge });
    expectRefused(crossed, 401, "challenge_expired");

    // A challenge past its 5 minutes.
    const { options, response: late } = await registrationFor(client, device());
    const row = await t.models.PasskeyChallenge.findByPk(hashToken(options.challenge));
    expect(row).toMatchObject({ userId: user.id, purpose: "register" });
    expect(row!.expiresAt.getTime() - row!.createdAt.getTime()).toBe(5 * 60_000);
    await row!.update({ expiresAt: new Date(Date.now() - 1) });
    expectRefused(await client.mutation("auth.passkeys.register", { response: late }), 401, "challenge_expired");

    expect(ok(await client.query<{ items: Passkey[] }>("auth.passkeys.list")).items).toHaveLength(1);
  });

  it("refuses an attestation from another origin or relying party, or without the user present and verified", async () => {
    const { user, account } = await createUser(t);
    const client = await signIn(t, account);
    const port = new URL(pageOrigin()).port;
    for (const tweaks of [
      { origin: "https://evil.example" },
      { origin: `http://127.0.0.1:${port}` },
      { origin: `https://localhost:${port}` },
      { rpId: "evil.example" },
      { rpId: "127.0.0.1" },
      { userVerified: false },
      { userPresent: false },
      { type: "webauthn.get" },
    ] satisfies CreateTweaks[]) {
      const res = await register(client, device(), tweaks);
      expect(res.status, JSON.stringify(tweaks)).toBe(400);
      expect(res.error!.data.fieldErrors, JSON.stringify(tweaks)).toHaveProperty("response");
    }
    expect(ok(await client.query<{ items: Passkey[] }>("auth.passkeys.list")).items).toEqual([]);
    expect(await t.models.Passkey.count({ where: { userId: user.id } })).toBe(0);
    expect(t.smtp.to(account.email).filter((m) => /passkey/i.test(m.subject))).toEqual([]);
  });

  it("stops at 20 passkeys an account", async () => {
    const { account } = await createUser(t);
    const client = await signIn(t, account);
    for (let i = 0; i < 20; i++) ok(await register(client, device()), `passkey ${i + 1}`);
    const full = await client.mutation("auth.passkeys.registerOptions");
    expectRefused(full, 409, "too_many_passkeys");
    expect(ok(await client.query<{ items: Passkey[] }>("auth.passkeys.list")).items).toHaveLength(20);
  }, 60_000);

  it("is managed from a browser session only: anonymous callers get 401, JWTs and API keys are refused", async () => {
    const { client } = await withPasskey();
    const { passkey } = await withPasskey();
    const calls = [
      ["auth.passkeys.registerOptions", "mutation", undefined],
      [
        "auth.passkeys.register",
        "mutation",
        {
          response: {
            id: "AAAA",
            rawId: "AAAA",
            type: "public-key",
            response: { clientDataJSON: "AAAA", attestationObject: "AAAA" },
          },
        },
      ],
      ["auth.passkeys.list", "query", undefined],
      ["auth.passkeys.rename", "mutation", { id: passkey.id, name: "x" }],
      ["auth.passkeys.delete", "mutation", { id: passkey.id }],
    ] as const;
    const call = (c: TestClient, [path, kind, input]: (typeof calls)[number]) =>
      kind === "query" ? c.query(path, input) : c.mutation(path, input);

    for (const entry of calls) expect((await call(t.client(), entry)).status, entry[0]).toBe(401);

    const { key } = await createKey(client, "backup robot");
    const jwt = await tokenFromKey(t, key);
    for (const entry of calls) {
      expect((await call(bearer(t, jwt), entry)).status, `JWT ${entry[0]}`).toBe(403);
      // An API key is refused as everywhere but auth.issueToken: exchange it for a JWT first.
      expect((await call(bearer(t, key), entry)).status, `API key ${entry[0]}`).toBe(401);
    }
    expect(await t.models.Passkey.findByPk(passkey.id)).not.toBeNull();
  });
});

describe("signing in with a passkey", () => {
  it("signs in after signing out: the cookie works, and the passkey's use is recorded", async () => {
    const { user, client, authenticator, passkey, credential } = await withPasskey();
    ok(await client.mutation("auth.logout"));
    expect((await client.query<Me>("auth.me")).data).toBeNull();

    const options = ok(await client.mutation<RequestOptionsJSON>("auth.passkeys.loginOptions"));
    expect(options.rpId).toBe(rpId());
    expect(options.userVerification).toBe("required");
    expect(options.allowCredentials ?? []).toEqual([]);
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(await t.models.PasskeyChallenge.findByPk(hashToken(options.challenge))).toMatchObject({
      userId: null,
      purpose: "login",
    });

    const response = authenticator.get(options);
    expect(response.response.userHandle).toBe(userHandleOf(user.id));
    const res = await client.mutation<LoginAnswer>("auth.passkeys.login", { response });
    expect(res.status, JSON.stringify(res.error)).toBe(200);
    expect(res.data).toMatchObject({
      status: "signed_in",
      user: {
        id: user.id,
        email: user.email,
        twoFactorEnabled: false,
        secondFactorSetupRequired: false,
        mustChangePassword: false,
      },
    });
    expect(client.sessionToken).toBeDefined();
    expect((await client.query<Me>("auth.me")).data).toMatchObject({ id: user.id });
    expect((await client.query("notes.list")).status).toBe(200);

    const [used] = ok(await client.query<{ items: Passkey[] }>("auth.passkeys.list")).items;
    expect(used!.id).toBe(passkey.id);
    expect(Date.parse(used!.lastUsedAt!)).not.toBeNaN();
    expect((await t.models.Passkey.findByPk(passkey.id))!.counter).toBe(credential.signCount);
    const signIns = await auditRows(t, { action: "sign_in", targetUserId: user.id });
    expect(signIns[signIns.length - 1]!.details).toMatchObject({ method: "passkey" });

    // A second sign-in from another browser, with the same passkey.
    const elsewhere = await passkeySignIn(authenticator);
    expect(elsewhere.res.status).toBe(200);
    expect(elsewhere.client.sessionToken).not.toBe(client.sessionToken);
  });

  it("takes each sign-in challenge once and within 5 minutes", async () => {
    const { authenticator } = await withPasskey();
    const first = await passkeySignIn(authenticator);
    expect(first.res.status).toBe(200);
    // The same response replayed, from another browser.
    const replayer = t.client();
    const replay = await replayer.mutation("auth.passkeys.login", { response: first.response });
    expectRefused(replay, 401, "challenge_expired");
    expectNoSession(replayer, replay);

    // A challenge past its 5 minutes.
    const late = t.client();
    const options = ok(await late.mutation<RequestOptionsJSON>("auth.passkeys.loginOptions"));
    await t.models.PasskeyChallenge.update(
      { expiresAt: new Date(Date.now() - 1) },
      { where: { id: hashToken(options.challenge) } },
    );
    const expired = await late.mutation("auth.passkeys.login", { response: authenticator.get(options) });
    expectRefused(expired, 401, "challenge_expired");
    expectNoSession(late, expired);

    // A challenge made up by the client, and a registration challenge.
    const made = await passkeySignIn(authenticator, { challenge: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
    expectRefused(made.res, 401, "challenge_expired");
    const { client: owner } = await withPasskey();
    const reg = ok(await owner.mutation<CreationOptionsJSON>("auth.passkeys.registerOptions"));
    const crossed = await passkeySignIn(authenticator, { challenge: reg.challenge });
    expectRefused(crossed.res, 401, "challenge_expired");
    expectNoSession(crossed.client, crossed.res);
    // The passkey still signs in (with a counter above every one it reported).
    expect((await passkeySignIn(authenticator)).res.status).toBe(200);
  });

  it("refuses a forged or mismatched assertion with 401 and no session", async () => {
    const { authenticator, credential } = await withPasskey();
    const other = await createUser(t);
    const port = new URL(pageOrigin()).port;
    for (const tweaks of [
      { origin: "https://evil.example" },
      { origin: `http://127.0.0.1:${port}` },
      { origin: `http://localhost:${Number(port) + 1}` },
      { rpId: "evil.example" },
      { rpId: "127.0.0.1" },
      { userVerified: false },
      { userPresent: false },
      { badSignature: true },
      { type: "webauthn.create" },
      { userHandle: userHandleOf(other.user.id) },
      { userHandle: "" },
    ] satisfies GetTweaks[]) {
      const { client, res } = await passkeySignIn(authenticator, tweaks);
      expectRefused(res, 401, "passkey_not_verified");
      expectNoSession(client, res);
    }
    // Signed with another key than the registered one.
    const impostor = device();
    impostor.create({
      challenge: "x",
      rp: { id: rpId(), name: "Notebox" },
      user: { id: credential.userHandle, name: "x", displayName: "x" },
      pubKeyCredParams: [{ type: "public-key", alg: -7 }],
    });
    impostor.credentials[0]!.id = credential.id;
    impostor.credentials[0]!.signCount = 1000;
    const forged = await passkeySignIn(impostor);
    expectRefused(forged.res, 401, "passkey_not_verified");
    expectNoSession(forged.client, forged.res);

    // Without a user handle (allowed by WebAuthn for a non-discoverable use) the signature decides.
    const { res } = await passkeySignIn(authenticator, { userHandle: null });
    expect(res.status, JSON.stringify(res.error)).toBe(200);
  });

  it("refuses a signature counter that goes backwards (a cloned authenticator)", async () => {
    const { client } = await signedInAccount();
    const authenticator = device();
    const { passkey } = ok(await register(client, authenticator, { counter: 5 }));
    expect((await t.models.Passkey.findByPk(passkey.id))!.counter).toBe(5);
    expect((await passkeySignIn(authenticator, { counter: 10 })).res.status).toBe(200);
    expect((await t.models.Passkey.findByPk(passkey.id))!.counter).toBe(10);
    for (const counter of [7, 10, 0]) {
      const { client: c, res } = await passkeySignIn(authenticator, { counter });
      expectRefused(res, 401, "passkey_not_verified");
      expectNoSession(c, res);
    }
    expect((await t.models.Passkey.findByPk(passkey.id))!.counter).toBe(10);
    expect((await passkeySignIn(authenticator, { counter: 11 })).res.status).toBe(200);
  });

  it("answers 401 for a passkey not registered here, or removed", async () => {
    // A passkey this authenticator made for the site but never registered.
    const stranger = device();
    stranger.create({
      challenge: "x",
      rp: { id: rpId(), name: "Notebox" },
      user: { id: userHandleOf("nobody"), name: "x", displayName: "x" },
      pubKeyCredParams: [{ type: "public-key", alg: -7 }],
    });
    const unknown = await passkeySignIn(stranger);
    expectRefused(unknown.res, 401, "passkey_unknown");
    expectNoSession(unknown.client, unknown.res);

    const { client, authenticator, passkey } = await withPasskey();
    ok(await client.mutation("auth.passkeys.delete", { id: passkey.id }));
    const removed = await passkeySignIn(authenticator);
    expectRefused(removed.res, 401, "passkey_unknown");
    expectNoSession(removed.client, removed.res);
  });

  it("keeps a disabled account out with 403", async () => {
    const { user, authenticator, passkey } = await withPasskey();
    await t.models.User.update({ disabledAt: new Date() }, { where: { id: user.id } });
    const { client, res } = await passkeySignIn(authenticator);
    expectRefused(res, 403, "account_disabled");
    expectNoSession(client, res);
    expect((await t.models.Passkey.findByPk(passkey.id))!.lastUsedAt).toBeNull();
    const failures = await auditRows(t, { action: "sign_in_failed", targetUserId: user.id });
    expect(failures[failures.length - 1]!.details).toMatchObject({ reason: "account_disabled" });
  });

  it("counts as two factors: an account with an authenticator app signs in without a code", async () => {
    const { account, client: first } = await signedInAccount();
    await enableTotp(first);
    const authenticator = device();
    ok(await register(first, authenticator));
    // The password alone asks for the code, as before.
    const password = await t.client().mutation<LoginAnswer>("auth.login", account);
    expect(password.data.status).toBe("second_factor_required");

    const { client, res } = await passkeySignIn(authenticator);
    expect(res.status, JSON.stringify(res.error)).toBe(200);
    expect(res.data).toMatchObject({ status: "signed_in", user: { twoFactorEnabled: true } });
    expect((await client.query<Me>("auth.me")).data).toMatchObject({ email: account.email, twoFactorEnabled: true });
  });
});

describe("removing a passkey", () => {
  it("is the owner's alone: another account neither sees, renames nor removes it", async () => {
    const a = await withPasskey();
    const b = await withPasskey();
    const bList = ok(await b.client.query<{ items: Passkey[] }>("auth.passkeys.list")).items;
    expect(bList.map((p) => p.id)).toEqual([b.passkey.id]);
    expectRefused(await b.client.mutation("auth.passkeys.rename", { id: a.passkey.id, name: "mine now" }), 404);
    expectRefused(await b.client.mutation("auth.passkeys.delete", { id: a.passkey.id }), 404);
    expectRefused(
      await b.client.mutation("auth.passkeys.delete", { id: a.passkey.id, password: b.account.password }),
      404,
    );
    expectRefused(await b.client.mutation("auth.passkeys.delete", { id: "no-such-passkey" }), 404);
    expectRefused(await b.client.mutation("auth.passkeys.rename", { id: "no-such-passkey", name: "x" }), 404);
    expect(ok(await a.client.query<{ items: Passkey[] }>("auth.passkeys.list")).items).toEqual([a.passkey]);
    expect(t.smtp.to(a.account.email).filter((m) => /passkey was removed/i.test(m.subject))).toEqual([]);
  });

  it("works from a session signed in within 10 minutes, and tells the owner", async () => {
    const { user, account, client, passkey, authenticator } = await withPasskey();
    const second = ok(await register(client, device())).passkey;
    await t.smtp.waitFor(account.email, /passkey was added/i);
    const res = await client.mutation("auth.passkeys.delete", { id: passkey.id });
    expect(res.status, JSON.stringify(res.error)).toBe(200);
    expect(res.data).toEqual({ status: "deleted" });
    expect(await t.smtp.waitFor(account.email, /passkey was removed/i)).toBeTruthy();
    expect(await auditRows(t, { action: "passkey_removed", targetUserId: user.id })).toMatchObject([
      { actorId: user.id, details: { passkeyId: passkey.id } },
    ]);
    expect(ok(await client.query<{ items: Passkey[] }>("auth.passkeys.list")).items).toEqual([second]);
    expect((await t.models.User.findByPk(user.id))!.passkeyCount).toBe(1);
    expectRefused(await client.mutation("auth.passkeys.delete", { id: passkey.id }), 404);
    expectRefused((await passkeySignIn(authenticator, { credential: authenticator.credentials[0] })).res, 401);

    // A session a passkey signed in is as fresh as a password's.
    ok(await client.mutation("auth.logout"));
    const other = device();
    ok(await register(await signIn(t, account), other));
    const { client: viaPasskey, res: login } = await passkeySignIn(other);
    expect(login.status).toBe(200);
    ok(await viaPasskey.mutation("auth.passkeys.delete", { id: second.id }));
  });

  it("needs the password or an app code from a session signed in more than 10 minutes ago", async () => {
    const { account, client, passkey } = await withPasskey();
    await ageSession(client, 11);
    const stale = await client.mutation("auth.passkeys.delete", { id: passkey.id });
    expectRefused(stale, 403, "fresh_proof_required");
    const wrong = await client.mutation("auth.passkeys.delete", { id: passkey.id, password: "not my password" });
    expect(wrong.status).toBe(400);
    expect(wrong.error!.data.fieldErrors).toHaveProperty("password");
    // No app on this account: a code is no proof.
    expectRefused(await client.mutation("auth.passkeys.delete", { id: passkey.id, code: "123456" }), 403);
    expect(ok(await client.query<{ items: Passkey[] }>("auth.passkeys.list")).items).toHaveLength(1);
    ok(await client.mutation("auth.passkeys.delete", { id: passkey.id, password: account.password }));
    expect(ok(await client.query<{ items: Passkey[] }>("auth.passkeys.list")).items).toEqual([]);
    await t.smtp.waitFor(account.email, /passkey was removed/i);

    // Just inside the 10 minutes, the session alone still counts.
    const second = ok(await register(client, device())).passkey;
    await ageSession(client, 9);
    ok(await client.mutation("auth.passkeys.delete", { id: second.id }));
  });

  it("takes a code from the app instead of the password", async () => {
    const { client } = await signedInAccount();
    const secret = await enableTotp(client);
    const { passkey } = ok(await register(client, device()));
    await ageSession(client, 30);
    expectRefused(await client.mutation("auth.passkeys.delete", { id: passkey.id }), 403, "fresh_proof_required");
    const wrong = await client.mutation("auth.passkeys.delete", { id: passkey.id, code: totp(secret, 5) });
    expect(wrong.status).toBe(400);
    expect(wrong.error!.data.fieldErrors).toHaveProperty("code");
    for (const code of ["12345", "abcdef"]) {
      expect((await client.mutation("auth.passkeys.delete", { id: passkey.id, code })).status).toBe(400);
    }
    const res = await client.mutation("auth.passkeys.delete", { id: passkey.id, code: totp(secret, 1) });
    expect(res.status, JSON.stringify(res.error)).toBe(200);
  });
});

describe("required two-factor sign-in", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.close());

  it("takes a passkey as the second factor, and then refuses the password alone", async () => {
    // An administrator with only a passkey may require two factors (it is one).
    const admin = await withPasskey(s, { role: "admin" });
    const member = await withPasskey(s);
    ok(await admin.client.mutation("admin.settings.update", { requireTwoFactor: "everyone" }));

    const me = ok(await member.client.query<Me>("auth.me"));
    expect(me!.secondFactorSetupRequired).toBe(false);
    expect((await member.client.query("notes.list")).status).toBe(200);

    const passwordClient = s.client();
    const password = await passwordClient.mutation("auth.login", member.account);
    expectRefused(password, 403, "passkey_required");
    expectNoSession(passwordClient, password);

    const { client, res } = await passkeySignIn(member.authenticator, {}, s.client());
    expect(res.status, JSON.stringify(res.error)).toBe(200);
    expect(res.data.user).toMatchObject({ id: member.user.id, secondFactorSetupRequired: false });
    expect((await client.query("notes.list")).status).toBe(200);

    // An account with neither must set one up, and a passkey is a set-up.
    const { account } = await createUser(s);
    const newcomer = await signIn(s, account, s.client());
    expect(ok(await newcomer.query<Me>("auth.me"))!.secondFactorSetupRequired).toBe(true);
    expectRefused(await newcomer.query("notes.list"), 403, "second_factor_setup_required");
    ok(await register(newcomer, device(s)));
    expect(ok(await newcomer.query<Me>("auth.me"))!.secondFactorSetupRequired).toBe(false);
    expect((await newcomer.query("notes.list")).status).toBe(200);
  });
});

describe("bad input", () => {
  const valid = {
    id: "AAAA",
    rawId: "AAAA",
    type: "public-key",
    response: { clientDataJSON: "AAAA", attestationObject: "AAAA", authenticatorData: "AAAA", signature: "AAAA" },
    clientExtensionResults: {},
  };

  it("answers a malformed response with 400, never 500", async () => {
    const { client } = await withPasskey();
    const long = (n: number) => "A".repeat(n);
    const bad: unknown[] = [
      undefined,
      {},
      { response: null },
      { response: "garbage" },
      { response: [] },
      { response: 42 },
      { response: { ...valid, id: undefined } },
      { response: { ...valid, type: "password" } },
      { response: { ...valid, id: "a+b/c=" } },
      { response: { ...valid, id: long(2000), rawId: long(2000) } },
      { response: { ...valid, response: null } },
      { response: { ...valid, response: { ...valid.response, clientDataJSON: 12 } } },
      { response: { ...valid, response: { ...valid.response, clientDataJSON: long(5000) } } },
      { response: { ...valid, response: { ...valid.response, clientDataJSON: "not base64url!" } } },
      { response: { ...valid, response: { ...valid.response, attestationObject: long(70_000) } } },
      { response: { ...valid, response: { ...valid.response, authenticatorData: long(70_000) } } },
      { response: { ...valid, response: { ...valid.response, signature: long(5000) } } },
      { response: { ...valid, response: { ...valid.response, userHandle: long(600) } } },
      { response: { ...valid, response: { ...valid.response, transports: Array(11).fill("usb") } } },
      { response: { ...valid, response: { ...valid.response, transports: ["x".repeat(33)] } } },
      { response: { ...valid, authenticatorAttachment: "roaming" } },
      { response: { ...valid, clientExtensionResults: "x" } },
      { response: valid, name: long(101) },
      { response: valid, name: "" },
    ];
    for (const input of bad) {
      for (const path of ["auth.passkeys.register", "auth.passkeys.login"]) {
        const res = await client.mutation(path, input);
        // A field one procedure does not read may pass its schema; then the content is refused.
        expect(res.status, `${path} ${JSON.stringify(input)?.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${path} ${JSON.stringify(input)?.slice(0, 200)}`).toBeLessThan(500);
      }
    }
    for (const path of ["auth.passkeys.register", "auth.passkeys.login", "auth.passkeys.rename"]) {
      expect((await client.rawMutation(path, "{not json")).status).toBe(400);
      expect((await client.rawMutation(path, JSON.stringify("x".repeat(200_000)))).status).toBe(400);
    }
    // Shapes the schema alone refuses, on both procedures.
    for (const input of [undefined, {}, { response: "garbage" }, { response: { ...valid, id: "a+b" } }]) {
      expect((await client.mutation("auth.passkeys.register", input)).status).toBe(400);
      expect((await client.mutation("auth.passkeys.login", input)).status).toBe(400);
    }
  });

  it("answers well-formed but meaningless content with 400 or 401, never 500", async () => {
    const { client, authenticator, credential } = await withPasskey();
    const json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const meaningless = [
      "AAAA",
      json(null),
      json([]),
      json({ challenge: 5 }),
      json({ challenge: "x".repeat(300) }),
      json({ type: "webauthn.get" }),
    ];
    for (const clientDataJSON of meaningless) {
      const reg = await client.mutation("auth.passkeys.register", {
        response: { ...valid, response: { ...valid.response, clientDataJSON } },
      });
      expectRefused(reg, 401, "passkey_not_verified");
      const login = await t.client().mutation("auth.passkeys.login", {
        response: { ...valid, response: { ...valid.response, clientDataJSON } },
      });
      expectRefused(login, 401, "passkey_not_verified");
    }

    // A valid registration challenge with a garbage attestation.
    const { response } = await registrationFor(client, device());
    for (const attestationObject of ["AAAA", "", Buffer.alloc(3000, 0xff).toString("base64url")]) {
      const { response: fresh } = await registrationFor(client, device());
      const res = await client.mutation("auth.passkeys.register", {
        response: { ...fresh, response: { ...fresh.response, attestationObject } },
      });
      expect(res.status, attestationObject.slice(0, 20)).toBe(400);
      expect(res.error!.data.fieldErrors).toHaveProperty("response");
    }
    // The id the client sends disagreeing with the attested credential.
    const mismatched = await client.mutation<{ passkey: Passkey }>("auth.passkeys.register", {
      response: { ...response, id: "AAAA", rawId: "BBBB" },
    });
    expect(mismatched.status).toBe(400);

    // A valid sign-in challenge with garbage authenticator data or signature, for a known passkey.
    for (const patch of [
      { authenticatorData: "AAAA" },
      { authenticatorData: Buffer.alloc(37, 0xff).toString("base64url") },
      { signature: "" },
      { signature: "AAAA" },
      { userHandle: Buffer.from([0xff, 0xfe]).toString("base64url") },
    ]) {
      const anon = t.client();
      const options = ok(await anon.mutation<RequestOptionsJSON>("auth.passkeys.loginOptions"));
      const good = authenticator.get(options, { credential });
      const res = await anon.mutation("auth.passkeys.login", {
        response: { ...good, response: { ...good.response, ...patch } },
      });
      expectRefused(res, 401, "passkey_not_verified");
      expectNoSession(anon, res);
    }
    // A long credential id nobody registered, with a valid challenge.
    const anon = t.client();
    const options = ok(await anon.mutation<RequestOptionsJSON>("auth.passkeys.loginOptions"));
    const good = authenticator.get(options, { credential });
    const longId = "A".repeat(1400);
    expectRefused(
      await anon.mutation("auth.passkeys.login", { response: { ...good, id: longId, rawId: longId } }),
      401,
      "passkey_unknown",
    );
  });

  it("keeps what the browser reports about transports within bounds, never answering 500", async () => {
    const { client } = await signedInAccount();
    // Ten transports of 32 characters each are within the schema, but their JSON is 350 characters.
    for (const transports of [Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(32, "x")), ['"'.repeat(32)]]) {
      const { response } = await registrationFor(client, device());
      const res = await client.mutation<{ passkey: Passkey }>("auth.passkeys.register", {
        response: { ...response, response: { ...response.response, transports } } satisfies RegistrationResponseJSON,
      });
      expect([200, 400], `${JSON.stringify(transports).length} chars: ${JSON.stringify(res.error)}`).toContain(
        res.status,
      );
    }
  });
});

/** A new account signed in with its password. */
async function signedInAccount() {
  const { user, account } = await createUser(t);
  return { user, account, client: await signIn(t, account) };
}

/** The base64url id of the (only) credential an authenticator holds. */
function b64(authenticator: SoftAuthenticator) {
  return authenticator.credentials[0]!.id.toString("base64url");
}
