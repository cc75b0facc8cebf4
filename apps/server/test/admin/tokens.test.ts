// Service access: API keys (shown once, stored hashed, optional expiry, last-used time, revocable,
// managed only from the browser session) exchanged through auth.issueToken for 15-minute HS256
// JWTs, accepted as `Authorization: Bearer` on tRPC and the file routes without an Origin. Forged,
// tampered, stale and orphaned tokens are all refused, and a bad bearer never falls back to the cookie.
import { createHash, randomBytes } from "node:crypto";
import { base64url, decodeJwt, decodeProtectedHeader, SignJWT, UnsecuredJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "@notebox/core";
import {
  bearer,
  contentUrl,
  createKey,
  createNote,
  issue,
  JWT_AUD,
  JWT_ISS,
  JWT_TTL,
  jwtSigningKey,
  ok,
  signedIn,
  tokenFromKey,
  uploadFiles,
  type ApiKeySummary,
  type Note,
  type Page,
} from "../support/admin";
import type { TestClient } from "../support/client";
import { signIn, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");
const nowSeconds = () => Math.floor(Date.now() / 1000);
const listKeys = async (client: TestClient) =>
  ok(await client.query<{ items: ApiKeySummary[] }>("auth.apiKeys.list")).items;
/** A call only a signed-in caller can make: 200 when the bearer is accepted, 401 when not. */
const notesStatus = async (token: string) => (await bearer(t, token).query("notes.list")).status;

describe("API keys", () => {
  it("are shown once on creation, listed without the key, and stored only as a sha256 hash and a short prefix", async () => {
    const u = await signedIn(t);
    const res = await u.client.mutation<{ key: string; apiKey: ApiKeySummary }>("auth.apiKeys.create", {
      name: "backup robot",
    });
    expect(res.status).toBe(200);
    const { key, apiKey } = res.data;
    expect(key).toMatch(/^nbk_[a-z2-7]{32,}$/);
    expect(apiKey).toEqual({
      id: expect.any(String) as string,
      name: "backup robot",
      prefix: key.slice(0, 12),
      createdAt: expect.any(String) as string,
      expiresAt: null,
      lastUsedAt: null,
    });
    expect(JSON.stringify(apiKey)).not.toContain(key);

    const listed = await listKeys(u.client);
    expect(listed).toEqual([apiKey]);
    expect(JSON.stringify(listed)).not.toContain(key.slice(12));

    const row = (await t.models.ApiKey.findByPk(apiKey.id))!;
    expect(row.keyHash).toBe(sha256Hex(key));
    expect(row.keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.prefix).toBe(key.slice(0, 12));
    expect(row.prefix.length).toBeLessThanOrEqual(16);
    expect(JSON.stringify(row.get())).not.toContain(key.slice(12));

    // Two keys are never the same; another user never sees this one.
    const second = await createKey(u.client, "second");
    expect(second.key).not.toBe(key);
    const other = await signedIn(t);
    expect(await listKeys(other.client)).toEqual([]);
  });

  it("take an optional expiry in the future; a past or malformed one is refused with a field error", async () => {
    const u = await signedIn(t);
    const when = new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString();
    const { apiKey } = await createKey(u.client, "expiring", when);
    expect(apiKey.expiresAt).toBe(when);

    for (const expiresAt of [new Date(Date.now() - 1000).toISOString(), "next tuesday"]) {
      const res = await u.client.mutation("auth.apiKeys.create", { name: "bad expiry", expiresAt });
      expect(res.status).toBe(400);
      expect(res.error?.data.fieldErrors?.expiresAt, expiresAt).toBeDefined();
    }
    expect((await listKeys(u.client)).map((k) => k.name)).toEqual(["expiring"]);
  });

  it("stop issuing tokens once expired, and the tokens issued before expiry die with the key", async () => {
    const u = await signedIn(t);
    const { key, apiKey } = await createKey(u.client, "short-lived", new Date(Date.now() + 3600_000).toISOString());
    const jwt = await tokenFromKey(t, key);
    expect(await notesStatus(jwt)).toBe(200);
    await t.models.ApiKey.update({ expiresAt: new Date(Date.now() - 1000) }, { where: { id: apiKey.id } });
    expect((await bearer(t, key).mutation("auth.issueToken")).status).toBe(401);
    expect(await notesStatus(jwt)).toBe(401);
  });

  it("revoked: the key can no longer issue tokens, its JWTs are refused, and it leaves the list", async () => {
    const u = await signedIn(t);
    const { key, apiKey } = await createKey(u.client);
    const kept = await createKey(u.client, "kept");
    const jwt = await tokenFromKey(t, key);
    const keptJwt = await tokenFromKey(t, kept.key);
    expect(await notesStatus(jwt)).toBe(200);

    expect((await u.client.mutation("auth.apiKeys.revoke", { id: apiKey.id })).data).toEqual({ status: "revoked" });
    const refused = await bearer(t, key).mutation("auth.issueToken");
    expect(refused.status).toBe(401);
    expect(refused.data).toBeUndefined();
    expect(await notesStatus(jwt)).toBe(401);
    expect((await listKeys(u.client)).map((k) => k.id)).toEqual([kept.apiKey.id]);
    expect((await t.models.ApiKey.findByPk(apiKey.id))!.revokedAt).not.toBeNull();
    // The user's other key is untouched.
    expect(await notesStatus(keptJwt)).toBe(200);
  });

  it("record when they were last used", async () => {
    const u = await signedIn(t);
    const { key, apiKey } = await createKey(u.client);
    expect((await t.models.ApiKey.findByPk(apiKey.id))!.lastUsedAt).toBeNull();
    const before = Date.now();
    await tokenFromKey(t, key);
    const used = (await t.models.ApiKey.findByPk(apiKey.id))!.lastUsedAt;
    expect(used).not.toBeNull();
    expect(used!.getTime()).toBeGreaterThanOrEqual(before - 5);
    expect(used!.getTime()).toBeLessThanOrEqual(Date.now() + 5);
    expect((await listKeys(u.client))[0]!.lastUsedAt).toBe(used!.toISOString());
  });

  it("are managed only from the browser session: a JWT gets 403, an API key 401, and nothing changes", async () => {
    const u = await signedIn(t);
    const { key, apiKey } = await createKey(u.client);
    const jwt = (await issue(u.client)).token;
    const calls = (client: TestClient) => [
      () => client.query("auth.apiKeys.list"),
      () => client.mutation("auth.apiKeys.create", { name: "minted by a token" }),
      () => client.mutation("auth.apiKeys.revoke", { id: apiKey.id }),
    ];
    for (const call of calls(bearer(t, jwt))) {
      const res = await call();
      expect(res.status).toBe(403);
      expect(res.data).toBeUndefined();
    }
    // An API key is stopped one step earlier: it must be exchanged for a JWT first (which then gets 403).
    for (const call of calls(bearer(t, key))) {
      const res = await call();
      expect(res.status).toBe(401);
      expect(res.error?.message).toMatch(/auth\.issueToken/);
    }
    const rows = await t.models.ApiKey.findAll({ where: { userId: u.user.id } });
    expect(rows.map((r) => [r.id, r.revokedAt])).toEqual([[apiKey.id, null]]);
  });

  it("cannot call other procedures or routes directly: 401 telling to exchange the key", async () => {
    const u = await signedIn(t);
    const { key } = await createKey(u.client);
    const [file] = await uploadFiles(u.client, [{ name: "k.txt", bytes: "key bytes" }]);
    const client = bearer(t, key);
    for (const res of [
      await client.query("notes.list"),
      await client.mutation("notes.create", { title: "by key" }),
      await client.query("files.list"),
      await client.query("auth.sessions.list"),
    ]) {
      expect(res.status).toBe(401);
      expect(res.error?.message).toMatch(/exchange the api key/i);
    }
    expect((await client.fetch(contentUrl(file!.id))).status).toBe(401);
    expect(await t.models.Note.count({ where: { ownerId: u.user.id } })).toBe(0);
  });
});

describe("auth.issueToken", () => {
  it("exchanges the browser session for a 15-minute HS256 JWT bound to that session", async () => {
    const u = await signedIn(t);
    const before = nowSeconds();
    const issued = await issue(u.client);
    expect(Object.keys(issued).sort()).toEqual(["expiresAt", "token"]);
    expect(decodeProtectedHeader(issued.token)).toMatchObject({ alg: "HS256" });
    const claims = decodeJwt(issued.token);
    expect(claims).toMatchObject({
      iss: JWT_ISS,
      aud: JWT_AUD,
      sub: u.user.id,
      sid: hashToken(u.client.sessionToken!),
    });
    expect(claims.kid).toBeUndefined();
    expect(claims.exp! - claims.iat!).toBe(JWT_TTL);
    expect(claims.iat!).toBeGreaterThanOrEqual(before);
    expect(claims.iat!).toBeLessThanOrEqual(nowSeconds());
    expect(typeof claims.jti).toBe("string");
    expect(issued.expiresAt).toBe(new Date(claims.exp! * 1000).toISOString());
    // Each token is its own.
    expect(decodeJwt((await issue(u.client)).token).jti).not.toBe(claims.jti);
  });

  it("exchanges an API key for a JWT bound to that key, with no cookie and no Origin", async () => {
    const u = await signedIn(t);
    const { key, apiKey } = await createKey(u.client);
    const res = await bearer(t, key).mutation<{ token: string; expiresAt: string }>("auth.issueToken");
    expect(res.status).toBe(200);
    const claims = decodeJwt(res.data.token);
    expect(claims).toMatchObject({ iss: JWT_ISS, aud: JWT_AUD, sub: u.user.id, kid: apiKey.id });
    expect(claims.sid).toBeUndefined();
    expect(claims.exp! - claims.iat!).toBe(JWT_TTL);
    expect(decodeProtectedHeader(res.data.token).alg).toBe("HS256");
  });

  it("will not renew a JWT with a JWT, and refuses a signed-out caller", async () => {
    const u = await signedIn(t);
    const jwt = (await issue(u.client)).token;
    expect((await bearer(t, jwt).mutation("auth.issueToken")).status).toBe(401);
    expect((await t.client({ origin: null }).mutation("auth.issueToken")).status).toBe(401);
  });
});

describe("a JWT as Authorization: Bearer", () => {
  it("works on tRPC queries and mutations without an Origin header", async () => {
    const u = await signedIn(t);
    const client = bearer(t, (await issue(u.client)).token);
    expect(client.origin).toBeNull();
    const me = await client.query<{ id: string; email: string }>("auth.me");
    expect(me.status).toBe(200);
    expect(me.data).toMatchObject({ id: u.user.id, email: u.account.email });
    const created = await client.mutation<Note>("notes.create", { title: "from a service", description: "via JWT" });
    expect(created.status).toBe(200);
    const list = await client.query<Page<{ id: string }>>("notes.list");
    expect(list.status).toBe(200);
    expect(list.data.items.map((n) => n.id)).toEqual([created.data.id]);
    // The note is the user's, as the browser sees it.
    expect(ok(await u.client.query<Page<{ id: string }>>("notes.list")).items.map((n) => n.id)).toEqual([
      created.data.id,
    ]);
  });

  it("works on POST /api/v1/files and GET /api/v1/files/:id/content, from a session or an API key", async () => {
    const u = await signedIn(t);
    const { key } = await createKey(u.client);
    for (const token of [(await issue(u.client)).token, await tokenFromKey(t, key)]) {
      const client = bearer(t, token);
      const [file] = await uploadFiles(client, [{ name: "report.txt", bytes: "quarterly numbers" }]);
      expect(file).toMatchObject({ name: "report.txt", size: 17 });
      const res = await client.fetch(contentUrl(file!.id));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("quarterly numbers");
      const part = await client.fetch(contentUrl(file!.id), { headers: { range: "bytes=0-8" } });
      expect(part.status).toBe(206);
      expect(await part.text()).toBe("quarterly");
    }
    expect(await t.models.File.count({ where: { ownerId: u.user.id } })).toBe(2);
  });

  it("works on the notes export route", async () => {
    const u = await signedIn(t);
    await createNote(u.client, "exported by a service");
    const jwt = (await issue(u.client)).token;
    const res = await bearer(t, jwt).fetch("/api/v1/notes/export?format=json");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("exported by a service");
    const bad = await bearer(t, `${jwt}x`).fetch("/api/v1/notes/export?format=json");
    expect(bad.status).toBe(401);
  });
});

describe("JWT attacks are refused with 401", () => {
  let u: Awaited<ReturnType<typeof signedIn>>;
  let valid: JWTPayload;
  beforeAll(async () => {
    u = await signedIn(t);
    valid = decodeJwt((await issue(u.client)).token);
  });

  /** Claims of a token the server would issue now for u's session, with `changes` applied (undefined deletes). */
  function claims(changes: Record<string, unknown> = {}): JWTPayload {
    const now = nowSeconds();
    const base: Record<string, unknown> = {
      ...valid,
      iat: now,
      exp: now + JWT_TTL,
      iat_ms: Date.now(),
      jti: randomBytes(8).toString("hex"),
    };
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined) delete base[k];
      else base[k] = v;
    }
    return base;
  }
  const sign = (payload: JWTPayload, alg = "HS256", key: Uint8Array = jwtSigningKey(t)) =>
    new SignJWT(payload).setProtectedHeader({ alg, typ: "JWT" }).sign(key);

  async function expectRefused(token: string) {
    const client = bearer(t, token);
    expect((await client.query("notes.list")).status).toBe(401);
    expect((await client.mutation("notes.create", { title: "should not exist" })).status).toBe(401);
    expect((await client.query("auth.me")).data).toBeNull();
    expect(await uploadFilesStatus(client)).toBe(401);
  }
  async function uploadFilesStatus(client: TestClient) {
    const form = new FormData();
    form.append("file", new Blob(["nope"]), "nope.txt");
    return (await client.fetch("/api/v1/files", { method: "POST", body: form })).status;
  }

  it("(control) a token forged with the right key and every claim right is accepted", async () => {
    expect(await notesStatus(await sign(claims()))).toBe(200);
  });

  it("alg: none", async () => {
    const header = base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }));
    const payload = base64url.encode(JSON.stringify(claims()));
    await expectRefused(`${header}.${payload}.`);
    await expectRefused(new UnsecuredJWT(claims()).encode());
    // "None" in other spellings, with the real signature left on.
    const real = (await issue(u.client)).token.split(".");
    for (const alg of ["None", "NONE", "nOnE"]) {
      await expectRefused(`${base64url.encode(JSON.stringify({ alg, typ: "JWT" }))}.${real[1]}.${real[2]}`);
    }
  });

  it("HS512 and HS384 with the right key", async () => {
    await expectRefused(await sign(claims(), "HS512"));
    await expectRefused(await sign(claims(), "HS384"));
  });

  it("HS256 with a wrong key, or with the server secret itself instead of the derived key", async () => {
    await expectRefused(await sign(claims(), "HS256", randomBytes(32)));
    await expectRefused(
      await sign(claims(), "HS256", new TextEncoder().encode(t.server.runtime.deps.config.jwtSecret)),
    );
  });

  it("a tampered payload under the original signature", async () => {
    const [h, , s] = (await issue(u.client)).token.split(".");
    const other = await signedIn(t);
    await expectRefused(`${h}.${base64url.encode(JSON.stringify(claims({ sub: other.user.id })))}.${s}`);
  });

  it("expired", async () => {
    const now = nowSeconds();
    await expectRefused(await sign(claims({ iat: now - JWT_TTL - 60, exp: now - 60 })));
  });

  it("a lifetime over 15 minutes, or no expiry at all", async () => {
    const now = nowSeconds();
    await expectRefused(await sign(claims({ iat: now, exp: now + 3600 })));
    await expectRefused(await sign(claims({ exp: undefined })));
  });

  it("wrong or missing audience", async () => {
    await expectRefused(await sign(claims({ aud: "another-api" })));
    await expectRefused(await sign(claims({ aud: undefined })));
  });

  it("wrong or missing issuer", async () => {
    await expectRefused(await sign(claims({ iss: "someone-else" })));
    await expectRefused(await sign(claims({ iss: undefined })));
  });

  it("missing or unknown subject", async () => {
    await expectRefused(await sign(claims({ sub: undefined })));
    await expectRefused(await sign(claims({ sub: "0190b2a4-0000-7000-8000-000000000000" })));
  });

  it("bound to neither a session nor an API key, or to ones that do not exist", async () => {
    await expectRefused(await sign(claims({ sid: undefined })));
    await expectRefused(await sign(claims({ sid: "0".repeat(64) })));
    await expectRefused(await sign(claims({ sid: undefined, kid: "no-such-key" })));
  });

  it("issued before a password change (through auth.changePassword)", async () => {
    const v = await signedIn(t);
    const { key } = await createKey(v.client);
    const sessionJwt = (await issue(v.client)).token;
    const keyJwt = await tokenFromKey(t, key);
    expect(await notesStatus(keyJwt)).toBe(200);
    ok(
      await v.client.mutation("auth.changePassword", {
        currentPassword: v.account.password,
        newPassword: "a changed passphrase 77",
      }),
    );
    await expectRefused(sessionJwt);
    // The key is revoked by the change (test/security/credentials.test.ts), and its tokens die with it.
    await expectRefused(keyJwt);
    expect((await bearer(t, key).mutation("auth.issueToken")).status).toBe(401);
    // The new session the change handed back issues working tokens.
    expect(await notesStatus((await issue(v.client)).token)).toBe(200);
  });

  it("from a session that was signed out, or revoked from another device", async () => {
    const v = await signedIn(t);
    const laptopJwt = (await issue(v.client)).token;
    ok(await v.client.mutation("auth.logout"));
    await expectRefused(laptopJwt);

    const phone = await signIn(t, v.account);
    const desk = await signIn(t, v.account);
    const phoneJwt = (await issue(phone)).token;
    ok(await desk.mutation("auth.sessions.revoke", { id: hashToken(phone.sessionToken!) }));
    await expectRefused(phoneJwt);
    expect(await notesStatus((await issue(desk)).token)).toBe(200);
  });

  it("of a deleted user", async () => {
    const admin = await signedIn(t, "admin");
    const v = await signedIn(t);
    const { key } = await createKey(v.client);
    const sessionJwt = (await issue(v.client)).token;
    const keyJwt = await tokenFromKey(t, key);
    ok(await admin.client.mutation("admin.users.delete", { id: v.user.id }));
    await expectRefused(sessionJwt);
    await expectRefused(keyJwt);
    expect((await bearer(t, key).mutation("auth.issueToken")).status).toBe(401);
  });

  it("an invalid bearer never falls back to the session cookie", async () => {
    const v = await signedIn(t);
    const [file] = await uploadFiles(v.client, [{ name: "private.txt", bytes: "private" }]);
    const forged = await sign(claims(), "HS256", randomBytes(32));
    for (const credential of [forged, "garbage", "nbk_notarealkeyatall"]) {
      const client = t.client({ headers: { authorization: `Bearer ${credential}` } });
      client.cookies = new Map(v.client.cookies);
      expect((await client.query("notes.list")).status, credential).toBe(401);
      expect((await client.query("auth.me")).data).toBeNull();
      expect((await client.mutation("auth.issueToken")).status).toBe(401);
      expect((await client.fetch(contentUrl(file!.id))).status).toBe(401);
      expect(await uploadFilesStatus(client)).toBe(401);
    }
    // The cookie itself is still good.
    expect((await v.client.query("notes.list")).status).toBe(200);
    expect(await t.models.File.count({ where: { ownerId: v.user.id } })).toBe(1);
  });
});
