// Credentials that outlived what should end them (issue 11, items 7 and 10): API keys that survived
// a password change, and JWTs dated in the future or carrying another person's or an expired
// session. Every case goes through the real server and checks the database as well as the status.
import { randomUUID } from "node:crypto";
import { decodeJwt, SignJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken, type RevokedApiKey } from "@notebox/core";
import {
  auditRows,
  bearer,
  contentUrl,
  createKey,
  issue,
  JWT_TTL,
  jwtSigningKey,
  ok,
  signedIn,
  tokenFromKey,
  uploadFiles,
  type ApiKeySummary,
  type CreatedKey,
} from "../support/admin";
import type { TestClient } from "../support/client";
import { resetLinkFrom } from "../support/smtp";
import { signIn, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const NEW_PASSWORD = "a passphrase nobody planted 81";

interface PasswordChanged {
  status: "password_changed";
  revokedApiKeys: RevokedApiKey[];
}

const changePassword = async (client: TestClient, currentPassword: string) =>
  ok(
    await client.mutation<PasswordChanged>("auth.changePassword", { currentPassword, newPassword: NEW_PASSWORD }),
    "auth.changePassword",
  );

const shown = ({ apiKey }: CreatedKey): RevokedApiKey => ({ id: apiKey.id, name: apiKey.name, prefix: apiKey.prefix });
const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
const listKeys = async (client: TestClient) =>
  ok(await client.query<{ items: ApiKeySummary[] }>("auth.apiKeys.list")).items;
const revokedAtOf = async (id: string) => (await t.models.ApiKey.findByPk(id))!.revokedAt;

/** A revoked key is refused as not valid everywhere: at auth.issueToken, on any procedure, on the file routes. */
async function expectKeyDead(key: string, fileId: string) {
  const client = bearer(t, key);
  const exchange = await client.mutation("auth.issueToken");
  expect(exchange.status).toBe(401);
  expect(exchange.data).toBeUndefined();
  // A live key would be told to exchange itself first; a dead one is simply not valid.
  for (const res of [
    await client.query("notes.list"),
    await client.mutation("notes.create", { title: "by a dead key" }),
  ]) {
    expect(res.status).toBe(401);
    expect(res.error?.message).toMatch(/not valid/);
  }
  expect((await client.fetch(contentUrl(fileId))).status).toBe(401);
}

describe("a password change revokes the user's API keys", () => {
  it("refuses each key afterwards, lists them in the answer, and stores revokedAt; other keys are untouched", async () => {
    const u = await signedIn(t);
    const [file] = await uploadFiles(u.client, [{ name: "secret.txt", bytes: "only mine" }]);
    const robot = await createKey(u.client, "backup robot");
    const planted = await createKey(u.client, "planted during the compromise");
    const earlier = await createKey(u.client, "revoked long ago");
    ok(await u.client.mutation("auth.apiKeys.revoke", { id: earlier.apiKey.id }));
    const earlierRevokedAt = await revokedAtOf(earlier.apiKey.id);
    const bystander = await signedIn(t);
    const theirs = await createKey(bystander.client, "someone else's");
    const plantedJwt = await tokenFromKey(t, planted.key);
    expect((await bearer(t, plantedJwt).query("notes.list")).status).toBe(200);

    const answer = await changePassword(u.client, u.account.password);

    expect(answer.status).toBe("password_changed");
    expect([...answer.revokedApiKeys].sort(byId)).toEqual([shown(robot), shown(planted)].sort(byId));
    for (const { key } of [robot, planted]) await expectKeyDead(key, file!.id);
    expect((await bearer(t, plantedJwt).query("notes.list")).status).toBe(401);
    expect(await t.models.Note.count({ where: { ownerId: u.user.id } })).toBe(0);

    for (const { apiKey } of [robot, planted]) expect(await revokedAtOf(apiKey.id)).not.toBeNull();
    // A key revoked before keeps its own date; another person's key is not touched.
    expect(await revokedAtOf(earlier.apiKey.id)).toEqual(earlierRevokedAt);
    expect(await revokedAtOf(theirs.apiKey.id)).toBeNull();
    expect((await bearer(t, await tokenFromKey(t, theirs.key)).query("notes.list")).status).toBe(200);
    expect(await listKeys(u.client)).toEqual([]);

    // A key made after the change, with the new session, works.
    const fresh = await createKey(u.client, "made afterwards");
    expect((await bearer(t, await tokenFromKey(t, fresh.key)).query("notes.list")).status).toBe(200);
  });

  it("audits each revoked key and names them in the email; with no keys the answer and the email say nothing of keys", async () => {
    const u = await signedIn(t);
    const planted = await createKey(u.client, "planted <b>key</b>");
    await changePassword(u.client, u.account.password);

    const revoked = await auditRows(t, { action: "api_key_revoked", targetUserId: u.user.id });
    expect(revoked).toEqual([
      expect.objectContaining({
        actorId: u.user.id,
        targetEmail: u.account.email,
        details: { keyId: planted.apiKey.id, name: "planted <b>key</b>", reason: "password_changed" },
      }),
    ]);
    const mail = await t.smtp.waitFor(u.account.email, /changed/i);
    expect(mail.text).toContain("API keys were revoked");
    expect(mail.text).toContain(`planted <b>key</b> (${planted.apiKey.prefix}…)`);
    expect(mail.html).toContain("planted &lt;b&gt;key&lt;/b&gt;");

    const keyless = await signedIn(t);
    expect((await changePassword(keyless.client, keyless.account.password)).revokedApiKeys).toEqual([]);
    expect((await t.smtp.waitFor(keyless.account.email, /changed/i)).text).not.toMatch(/API key/);
    expect(await auditRows(t, { action: "api_key_revoked", targetUserId: keyless.user.id })).toEqual([]);
  });

  it("a password reset revokes them by the same rule, audited the same way", async () => {
    const u = await signedIn(t);
    const planted = await createKey(u.client, "planted before the reset");
    ok(await t.client().mutation("auth.requestPasswordReset", { email: u.account.email }));
    const token = new URL(resetLinkFrom(await t.smtp.waitFor(u.account.email, /reset/i))).hash.replace("#token=", "");
    ok(await t.client().mutation("auth.resetPassword", { token, password: NEW_PASSWORD }));

    expect(await revokedAtOf(planted.apiKey.id)).not.toBeNull();
    expect((await bearer(t, planted.key).mutation("auth.issueToken")).status).toBe(401);
    expect(await auditRows(t, { action: "api_key_revoked", targetUserId: u.user.id })).toEqual([
      expect.objectContaining({
        actorId: null,
        details: { keyId: planted.apiKey.id, name: "planted before the reset", reason: "password_reset" },
      }),
    ]);
  });
});

describe("a JWT signed with the real key", () => {
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  /** The claims the server issued to `client`'s session, re-dated to now, with `changes` applied, signed as the server signs. */
  async function forge(client: TestClient, changes: JWTPayload = {}): Promise<string> {
    const issued = decodeJwt((await issue(client)).token);
    const now = nowSeconds();
    const claims = { ...issued, iat: now, exp: now + JWT_TTL, iat_ms: Date.now(), jti: randomUUID(), ...changes };
    return new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(jwtSigningKey(t));
  }

  /** Claims of a token issued `seconds` from now, lasting the usual 15 minutes from then. */
  const datedAhead = (seconds: number): JWTPayload => ({
    iat: nowSeconds() + seconds,
    exp: nowSeconds() + seconds + JWT_TTL,
    iat_ms: Date.now() + seconds * 1000,
  });

  /** 200 when the token is accepted, 401 when refused; a refused one writes nothing. */
  async function statusOf(token: string, ownerId: string): Promise<number> {
    const client = bearer(t, token);
    const before = await t.models.Note.count({ where: { ownerId } });
    const created = await client.mutation("notes.create", { title: "by a forged token" });
    if (created.status !== 200) expect(await t.models.Note.count({ where: { ownerId } })).toBe(before);
    expect((await client.query("notes.list")).status).toBe(created.status);
    return created.status;
  }

  it("is refused when dated more than 60 s ahead by iat, iat_ms or both; 30 s ahead is clock skew and works", async () => {
    const u = await signedIn(t);
    const ahead = datedAhead(5 * 60);
    expect(await statusOf(await forge(u.client, ahead), u.user.id)).toBe(401);
    // Only iat ahead: `exp - iat` looks like 15 minutes while the token lives 20.
    expect(await statusOf(await forge(u.client, { iat: ahead.iat, exp: ahead.exp }), u.user.id)).toBe(401);
    // Only iat_ms ahead: the token would survive the next password change or sign-out everywhere.
    expect(await statusOf(await forge(u.client, { iat_ms: ahead.iat_ms }), u.user.id)).toBe(401);

    expect(await statusOf(await forge(u.client, datedAhead(30)), u.user.id)).toBe(200);
  });

  it("is refused when it carries the session of another user", async () => {
    const a = await signedIn(t);
    const b = await signedIn(t);
    const sidOf = (client: TestClient) => hashToken(client.sessionToken!);
    expect(await statusOf(await forge(a.client, { sid: sidOf(b.client) }), a.user.id)).toBe(401);
    expect(await statusOf(await forge(b.client, { sid: sidOf(a.client) }), b.user.id)).toBe(401);
    // Both sessions are live: each token works with its own.
    expect(await statusOf(await forge(a.client, { sid: sidOf(a.client) }), a.user.id)).toBe(200);
    expect(await t.models.Session.count({ where: { id: [sidOf(a.client), sidOf(b.client)] } })).toBe(2);
  });

  it("is refused when its session has expired, even while the row is still there", async () => {
    const u = await signedIn(t);
    const phone = await signIn(t, u.account);
    const sid = hashToken(phone.sessionToken!);
    const token = await forge(u.client, { sid });
    expect(await statusOf(token, u.user.id)).toBe(200);
    await t.models.Session.update({ expiresAt: new Date(Date.now() - 1000) }, { where: { id: sid } });
    expect(await statusOf(token, u.user.id)).toBe(401);
    expect(await t.models.Session.count({ where: { id: sid } })).toBe(1);
  });
});
