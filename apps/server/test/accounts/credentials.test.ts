// The plain HTTP routes (file upload and download, notes export) read credentials exactly as tRPC
// does: a session near its end is renewed and its cookie sent again, a cookie that no longer
// names a live session is cleared, an API key must first be exchanged for a JWT, a bearer that is
// not valid is refused without looking at the cookie, and a database that cannot be reached while
// checking any of it answers 503.
import { hashToken, SESSION_RENEW_UNDER_MS, SESSION_TTL_MS } from "@notebox/core";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { bearer, createKey, createNote, issue, ok, signedIn, uploadFiles } from "../support/admin";
import type { TestClient } from "../support/client";
import { contentPath } from "../support/files";
import { startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());
afterEach(() => {
  vi.restoreAllMocks();
});

const COOKIE = "notebox_session";
const EXPORT_PATH = "/api/v1/notes/export?format=json";

/** A person signed in in a browser, with one note and one file of theirs. */
async function person() {
  const p = await signedIn(t);
  await createNote(p.client, "a note to export");
  const [file] = await uploadFiles(p.client, [{ name: "notes.txt", bytes: "file bytes" }]);
  return { ...p, file: file!, sessionId: hashToken(p.client.sessionToken!) };
}
type Person = Awaited<ReturnType<typeof person>>;

/** Each plain route, called as the browser (or service) holding `client` would call it. */
const plainRoutes = (p: Person) =>
  [
    ["GET file content", (client: TestClient) => client.fetch(contentPath(p.file.id))],
    ["POST file upload", (client: TestClient) => uploadFilesRaw(client)],
    ["GET notes export", (client: TestClient) => client.fetch(EXPORT_PATH)],
  ] as const;

function uploadFilesRaw(client: TestClient): Promise<Response> {
  const form = new FormData();
  form.append("file", new Blob(["uploaded bytes"]), "upload.txt");
  return client.fetch("/api/v1/files", { method: "POST", body: form });
}

/** The session cookies a response sets (renewed or cleared). */
const sessionCookies = (res: { headers: Headers }) =>
  res.headers.getSetCookie().filter((c) => c.startsWith(`${COOKIE}=`));

/** Moves the session to under 15 days from its end, as if unused for over two weeks. */
async function nearItsEnd(sessionId: string): Promise<Date> {
  const expiresAt = new Date(Date.now() + SESSION_RENEW_UNDER_MS - 60_000);
  await t.models.Session.update({ expiresAt }, { where: { id: sessionId } });
  // Session validation is cached for a few seconds; the cached entry still holds the old expiry.
  await t.server.runtime.deps.cache.forgetSessions([sessionId]);
  return expiresAt;
}

async function errorOf(res: Response) {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

/** A client holding only the given cookie value. */
function withCookie(token: string): TestClient {
  const client = t.client();
  client.cookies.set(COOKIE, token);
  return client;
}

describe("a session near its end", () => {
  it("is renewed by a file download, an upload and an export, each sending the cookie again as tRPC does", async () => {
    const p = await person();
    await nearItsEnd(p.sessionId);
    const fromTrpc = await p.client.query("auth.me");
    const trpcCookie = sessionCookies(fromTrpc);
    expect(trpcCookie).toHaveLength(1);
    // The same token, with the same attributes and a fresh 30-day Max-Age.
    expect(trpcCookie[0]).toContain(`${COOKIE}=${p.client.sessionToken!};`);
    expect(trpcCookie[0]).toContain(`Max-Age=${SESSION_TTL_MS / 1000}`);

    for (const [route, call] of plainRoutes(p)) {
      await nearItsEnd(p.sessionId);
      const res = await call(p.client);
      expect(res.status, route).toBeLessThan(300);
      await res.arrayBuffer();
      expect(sessionCookies(res), route).toEqual(trpcCookie);
      const expiresAt = (await t.models.Session.findByPk(p.sessionId))!.expiresAt.getTime();
      expect(expiresAt, route).toBeGreaterThan(Date.now() + SESSION_TTL_MS - 60_000);
    }
  });

  it("sends the cookie with the bytes of a download: the body is whole and the session lives on", async () => {
    const p = await person();
    await nearItsEnd(p.sessionId);
    const res = await p.client.fetch(contentPath(p.file.id));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("file bytes");
    expect(sessionCookies(res)).toHaveLength(1);
    expect((await p.client.query("auth.me")).data).toMatchObject({ id: p.user.id });
  });

  it("is left alone while more than 15 days remain: no Set-Cookie from the plain routes", async () => {
    const p = await person();
    const plenty = new Date(Date.now() + SESSION_RENEW_UNDER_MS + 60_000);
    await t.models.Session.update({ expiresAt: plenty }, { where: { id: p.sessionId } });
    await t.server.runtime.deps.cache.forgetSessions([p.sessionId]);
    for (const [route, call] of plainRoutes(p)) {
      const res = await call(p.client);
      expect(res.status, route).toBeLessThan(300);
      await res.arrayBuffer();
      expect(sessionCookies(res), route).toEqual([]);
    }
    expect((await t.models.Session.findByPk(p.sessionId))!.expiresAt.getTime()).toBe(plenty.getTime());
  });
});

describe("a cookie that names no live session", () => {
  it("is cleared by the plain routes with 401, with the same Set-Cookie tRPC sends, and nothing is stored", async () => {
    const p = await person();
    const signedOut = await signedIn(t);
    const signedOutToken = signedOut.client.sessionToken!;
    ok(await signedOut.client.mutation("auth.logout"));
    const expired = await signedIn(t);
    const expiredToken = expired.client.sessionToken!;
    await t.models.Session.update({ expiresAt: new Date(Date.now() - 1) }, { where: { id: hashToken(expiredToken) } });
    await t.server.runtime.deps.cache.forgetSessions([hashToken(expiredToken)]);

    const cases = {
      "made up": "a".repeat(32),
      "not even a token": "nonsense",
      "signed out": signedOutToken,
      expired: expiredToken,
    };
    const files = await t.models.File.count();
    for (const [name, token] of Object.entries(cases)) {
      const fromTrpc = await withCookie(token).query("auth.me");
      expect(fromTrpc.data, name).toBeNull();
      const cleared = sessionCookies(fromTrpc);
      expect(cleared, name).toHaveLength(1);
      expect(cleared[0]).toMatch(/^notebox_session=;/);
      expect(cleared[0]).toContain("Max-Age=0");

      for (const [route, call] of plainRoutes(p)) {
        const client = withCookie(token);
        const res = await call(client);
        expect(res.status, `${name}: ${route}`).toBe(401);
        expect((await errorOf(res)).code).toBe("UNAUTHORIZED");
        expect(sessionCookies(res), `${name}: ${route}`).toEqual(cleared);
        expect(client.cookies.has(COOKIE)).toBe(false);
      }
    }
    expect(await t.models.File.count()).toBe(files);
    // The owner's own session is untouched by all this.
    expect((await p.client.fetch(contentPath(p.file.id))).status).toBe(200);
  });

  it("is not sent back when no cookie came at all", async () => {
    const p = await person();
    for (const [route, call] of plainRoutes(p)) {
      const res = await call(t.client());
      expect(res.status, route).toBe(401);
      expect(sessionCookies(res), route).toEqual([]);
    }
  });
});

describe("an API key", () => {
  it("is refused on the plain routes with 401 telling to exchange it, as tRPC refuses it outside auth.issueToken", async () => {
    const p = await person();
    const { key } = await createKey(p.client);
    const keyClient = bearer(t, key);
    const fromTrpc = await keyClient.query("notes.list");
    expect(fromTrpc.status).toBe(401);
    expect(fromTrpc.error?.message).toMatch(/auth\.issueToken/);

    const files = await t.models.File.count({ where: { ownerId: p.user.id } });
    for (const [route, call] of plainRoutes(p)) {
      const res = await call(keyClient);
      expect(res.status, route).toBe(401);
      const error = await errorOf(res);
      expect(error.code, route).toBe("UNAUTHORIZED");
      expect(error.message, route).toBe(fromTrpc.error!.message);
    }
    expect(await t.models.File.count({ where: { ownerId: p.user.id } })).toBe(files);

    // Exchanged for a JWT, as designed, it works on every one of them.
    const jwtClient = bearer(t, (await issue(keyClient)).token);
    for (const [route, call] of plainRoutes(p)) {
      const res = await call(jwtClient);
      expect(res.status, route).toBeLessThan(300);
      await res.arrayBuffer();
      expect(sessionCookies(res), route).toEqual([]);
    }
  });

  it("is refused as an API key before the account's pending password change is looked at, as on tRPC", async () => {
    const p = await person();
    const { key } = await createKey(p.client);
    await t.models.User.update({ mustChangePassword: true }, { where: { id: p.user.id } });
    await t.server.runtime.deps.cache.forgetUser(p.user.id);
    const keyClient = bearer(t, key);
    expect((await keyClient.query("notes.list")).status).toBe(401);
    for (const [route, call] of plainRoutes(p)) {
      const res = await call(keyClient);
      expect(res.status, route).toBe(401);
      await res.arrayBuffer();
    }
    // The browser session of that account gets the 403 that asks for a new password.
    const res = await p.client.fetch(contentPath(p.file.id));
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { reason: "password_change_required" } });
  });
});

describe("a bearer that is not valid", () => {
  it("is refused with 401 and the same message as tRPC, and a cookie that came along is neither used nor renewed", async () => {
    const p = await person();
    const expiresAt = await nearItsEnd(p.sessionId);
    const client = t.client({ headers: { authorization: "Bearer not-a-real-token" } });
    client.cookies = new Map(p.client.cookies);
    const fromTrpc = await client.query("notes.list");
    expect(fromTrpc.status).toBe(401);
    expect(sessionCookies(fromTrpc)).toEqual([]);

    for (const [route, call] of plainRoutes(p)) {
      const res = await call(client);
      expect(res.status, route).toBe(401);
      expect((await errorOf(res)).message, route).toBe(fromTrpc.error!.message);
      expect(sessionCookies(res), route).toEqual([]);
    }
    expect((await t.models.Session.findByPk(p.sessionId))!.expiresAt.getTime()).toBe(expiresAt.getTime());
  });
});

describe("a database that cannot be reached while the cookie is checked", () => {
  it("answers 503 with Retry-After on tRPC and on the plain routes, and the session survives", async () => {
    const p = await person();
    const unreachable = () => Object.assign(new Error("connect ECONNREFUSED"), { parent: { code: "ECONNREFUSED" } });
    // The session lookup (one query of the session with its user) finds the database gone, on
    // Sequelize's connections and on SQLite's main-thread reader alike.
    const isLookup = (sql: unknown) => String(sql).includes("FROM sessions s JOIN users u");
    const db = t.server.runtime.deps.db;
    const query = db.sequelize.query.bind(db.sequelize);
    const lookups = vi
      .spyOn(db.sequelize, "query")
      .mockImplementation(((sql: unknown, options: unknown) =>
        isLookup(sql) ? Promise.reject(unreachable()) : query(sql as string, options as never)) as typeof query);
    // MySQL/MariaDB reads outside a transaction take a connection of Sequelize's pool directly.
    const manager = (
      db.sequelize as unknown as { connectionManager: { getConnection: (options: unknown) => Promise<unknown> } }
    ).connectionManager;
    const connections = vi.spyOn(manager, "getConnection").mockImplementation(() => Promise.reject(unreachable()));
    const hot = db.hotReader;
    const hotAll = hot?.all.bind(hot);
    const hotLookups = hot
      ? vi.spyOn(hot, "all").mockImplementation((sql: string, params: unknown[]) => {
          if (isLookup(sql)) throw unreachable();
          return hotAll!(sql, params);
        })
      : null;

    await t.server.runtime.deps.cache.forgetSessions([p.sessionId]);
    const fromTrpc = await p.client.query("notes.list");
    expect(fromTrpc.status).toBe(503);
    expect(fromTrpc.headers.get("retry-after")).toBe("5");
    for (const [route, call] of plainRoutes(p)) {
      await t.server.runtime.deps.cache.forgetSessions([p.sessionId]);
      const res = await call(p.client);
      expect(res.status, route).toBe(503);
      expect(res.headers.get("retry-after"), route).toBe("5");
      expect((await errorOf(res)).code, route).toBe("SERVICE_UNAVAILABLE");
      expect(sessionCookies(res), route).toEqual([]);
    }
    expect(db.dialect === "sqlite" ? hotLookups : connections).toHaveBeenCalled();

    lookups.mockRestore();
    connections.mockRestore();
    hotLookups?.mockRestore();
    expect(p.client.sessionToken).toBeDefined();
    expect((await p.client.fetch(contentPath(p.file.id))).status).toBe(200);
  });
});
