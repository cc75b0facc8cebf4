// The HTTP surface's security rules: the Origin check on cookie-carrying writes, GET never
// writing, security headers on every kind of reply, the session cookie's flags, the body limit,
// 404s, health checks, and errors that reveal nothing about the server.
import { existsSync } from "node:fs";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import { SESSION_COOKIE } from "@notebox/api";
import { hashToken } from "@notebox/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import { codeFrom } from "../support/smtp";
import { createUser, newAccount, signIn, startTestServer, type TestServer } from "../support/server";

const TRPC_BODY_LIMIT = 4 * 1024 * 1024;
const THIRTY_DAYS_S = 30 * 24 * 60 * 60;
const webBuilt = existsSync(fileURLToPath(new URL("../../../web/build/index.html", import.meta.url)));

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

function expectNoInternals(text: string) {
  expect(text).not.toMatch(/(?:\n|\\n)\s*at\s/);
  expect(text).not.toMatch(/\w\.(?:ts|js|mjs|cjs):\d+/);
  expect(text).not.toMatch(/\/src\/|node_modules|file:\/\//);
  expect(text).not.toMatch(/Sequelize|SQLITE_|ER_[A-Z_]+|"stack"/);
}

/** A signed-in user with a second client holding the same cookie but sending another Origin. */
async function signedIn() {
  const { account, user } = await createUser(t);
  const client = await signIn(t, account);
  const sessionId = hashToken(client.sessionToken!);
  return { account, user, client, sessionId };
}

/** The same browser (same cookie jar) as seen from another page: a different Origin header, or none. */
function asFrom(client: TestClient, origin: string | null): TestClient {
  const other = t.client({ origin });
  other.cookies = new Map(client.cookies);
  return other;
}

async function postJson(client: TestClient, procedure: string, input?: unknown) {
  const res = await client.fetch(`/api/v1/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: input === undefined ? "" : JSON.stringify(input),
  });
  const text = await res.text();
  return { res, text, json: JSON.parse(text) as { error?: { code?: unknown } } };
}

const BAD_ORIGINS: [string, (port: string) => string | null][] = [
  ["no Origin", () => null],
  ["a foreign Origin", () => "https://evil.example"],
  ["Origin: null", () => "null"],
  ["the same server under another name", (port) => `http://127.0.0.1:${port}`],
  ["a look-alike host", (port) => `http://localhost:${port}.evil.example`],
];

describe("the Origin check on requests carrying the session cookie", () => {
  it.for(BAD_ORIGINS)("refuses auth.logout with %s and keeps the session", async ([, origin]) => {
    const { client, sessionId } = await signedIn();
    const port = new URL(t.url).port;
    const { res, text, json } = await postJson(asFrom(client, origin(port)), "auth.logout");
    expect(res.status).toBe(403);
    expect(json.error?.code).toBe("FORBIDDEN");
    expect(res.headers.getSetCookie()).toEqual([]);
    expectNoInternals(text);
    expect(await t.models.Session.count({ where: { id: sessionId } })).toBe(1);
    expect((await client.query<{ id: string } | null>("auth.me")).data).not.toBeNull();
  });

  it.for(BAD_ORIGINS)("refuses auth.changePassword with %s and keeps the password", async ([, origin]) => {
    const { client, account, user, sessionId } = await signedIn();
    const before = (await t.models.User.findByPk(user.id))!;
    const port = new URL(t.url).port;
    const { res, text } = await postJson(asFrom(client, origin(port)), "auth.changePassword", {
      currentPassword: account.password,
      newPassword: "a completely different passphrase",
    });
    expect(res.status).toBe(403);
    expectNoInternals(text);
    const after = (await t.models.User.findByPk(user.id))!;
    expect(after.passwordHash).toBe(before.passwordHash);
    expect(after.tokensValidAfter.getTime()).toBe(before.tokensValidAfter.getTime());
    expect(await t.models.Session.findAll({ where: { userId: user.id } })).toEqual([
      expect.objectContaining({ id: sessionId }),
    ]);
  });

  it("refuses a cross-site sign-in over an existing session and creates no session", async () => {
    const { client, account, user } = await signedIn();
    const { res } = await postJson(asFrom(client, "https://evil.example"), "auth.login", {
      email: account.email,
      password: account.password,
    });
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await t.models.Session.count({ where: { userId: user.id } })).toBe(1);
  });

  it("applies to any cookie value, even one that is no longer a valid session", async () => {
    const client = t.client({ origin: "https://evil.example" });
    client.cookies.set(SESSION_COOKIE, "a".repeat(32));
    const account = newAccount();
    const { res } = await postJson(client, "auth.register", account);
    expect(res.status).toBe(403);
    expect(await t.models.User.count({ where: { email: account.email } })).toBe(0);
  });

  it("refuses other write methods too", async () => {
    const { client, sessionId } = await signedIn();
    for (const method of ["PUT", "PATCH", "DELETE"]) {
      const res = await asFrom(client, "https://evil.example").fetch("/api/v1/trpc/auth.logout", { method });
      expect(res.status, method).toBe(403);
    }
    expect(await t.models.Session.count({ where: { id: sessionId } })).toBe(1);
  });

  it("lets the same requests through from the app's own Origin", async () => {
    const { client, account, user, sessionId } = await signedIn();
    const before = (await t.models.User.findByPk(user.id))!.passwordHash;
    const changed = await client.mutation("auth.changePassword", {
      currentPassword: account.password,
      newPassword: "a completely different passphrase",
    });
    expect(changed.status).toBe(200);
    expect((await t.models.User.findByPk(user.id))!.passwordHash).not.toBe(before);
    // The change ended the old session and issued a new one; logging out ends that one.
    expect(await t.models.Session.count({ where: { id: sessionId } })).toBe(0);
    const current = hashToken(client.sessionToken!);
    expect(await t.models.Session.count({ where: { id: current } })).toBe(1);
    const out = await client.mutation("auth.logout");
    expect(out.status).toBe(200);
    expect(await t.models.Session.count({ where: { id: current } })).toBe(0);
    expect(client.sessionToken).toBeUndefined();
  });

  it("does not apply to a POST without the cookie: registering with no Origin or a foreign one works", async () => {
    for (const origin of [null, "https://evil.example"]) {
      const account = newAccount();
      const res = await t.client({ origin }).mutation("auth.register", account);
      expect(res.status, `origin ${origin}`).toBe(200);
      expect(await t.models.User.count({ where: { email: account.email } })).toBe(1);
    }
  });
});

describe("GET never changes state", () => {
  it("refuses auth.logout over GET and the session survives", async () => {
    const { client, sessionId } = await signedIn();
    for (const url of [
      "/api/v1/trpc/auth.logout",
      `/api/v1/trpc/auth.logout?batch=1&input=${encodeURIComponent("{}")}`,
    ]) {
      const res = await client.fetch(url);
      const text = await res.text();
      expect(res.status, url).toBeGreaterThanOrEqual(400);
      expect(res.status, url).toBeLessThan(500);
      expect(res.headers.getSetCookie()).toEqual([]);
      expectNoInternals(text);
    }
    expect(await t.models.Session.count({ where: { id: sessionId } })).toBe(1);
    expect((await client.query("auth.me")).data).not.toBeNull();
  });

  it("refuses auth.changePassword and auth.sessions.revokeOthers over GET", async () => {
    const { client, account, user } = await signedIn();
    const second = await signIn(t, account);
    const before = (await t.models.User.findByPk(user.id))!.passwordHash;
    const input = encodeURIComponent(
      JSON.stringify({ currentPassword: account.password, newPassword: "a completely different passphrase" }),
    );
    const change = await client.fetch(`/api/v1/trpc/auth.changePassword?input=${input}`);
    expect(change.status).toBeGreaterThanOrEqual(400);
    expect(change.status).toBeLessThan(500);
    const revoke = await client.fetch("/api/v1/trpc/auth.sessions.revokeOthers");
    expect(revoke.status).toBeGreaterThanOrEqual(400);
    expect(revoke.status).toBeLessThan(500);
    expect((await t.models.User.findByPk(user.id))!.passwordHash).toBe(before);
    expect(await t.models.Session.count({ where: { id: hashToken(second.sessionToken!) } })).toBe(1);
  });
});

describe("security headers", () => {
  function expectSecurityHeaders(res: Response, label: string, api: boolean) {
    const csp = res.headers.get("content-security-policy");
    expect(csp, label).toBeTruthy();
    const directives = new Map(
      csp!
        .split(";")
        .map((d) => d.trim().split(/\s+/))
        .filter((parts) => parts[0])
        .map(([name, ...values]) => [name!.toLowerCase(), values] as const),
    );
    expect(directives.get("object-src"), label).toEqual(["'none'"]);
    expect(directives.get("frame-ancestors"), label).toEqual(["'none'"]);
    const scriptSrc = directives.get("script-src") ?? directives.get("default-src");
    expect(scriptSrc, label).toBeDefined();
    expect(scriptSrc, label).not.toContain("'unsafe-inline'");
    expect(scriptSrc, label).not.toContain("*");
    expect(res.headers.get("x-content-type-options"), label).toBe("nosniff");
    expect(res.headers.get("referrer-policy"), label).toBeTruthy();
    if (api) expect(res.headers.get("cache-control"), label).toMatch(/\bno-store\b/);
  }

  it("sends them on API replies, errors, health checks and unknown paths", async () => {
    const { client } = await signedIn();
    const evil = asFrom(client, "https://evil.example");
    const replies: [string, Promise<Response>, boolean][] = [
      ["tRPC query", client.fetch("/api/v1/trpc/auth.me"), true],
      [
        "tRPC mutation",
        t.client().fetch("/api/v1/trpc/auth.resendCode", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: newAccount().email }),
        }),
        true,
      ],
      ["tRPC validation error", t.client().fetch("/api/v1/trpc/auth.register", { method: "POST", body: "{}" }), true],
      ["tRPC unknown procedure", t.client().fetch("/api/v1/trpc/nope.nothing"), true],
      ["tRPC unauthorized", t.client().fetch("/api/v1/trpc/auth.sessions.list"), true],
      ["Origin refusal", evil.fetch("/api/v1/trpc/auth.logout", { method: "POST" }), true],
      [
        "body too large",
        t.client().fetch("/api/v1/trpc/auth.register", { method: "POST", body: "x".repeat(TRPC_BODY_LIMIT + 1) }),
        true,
      ],
      ["unknown /api path", t.client().fetch("/api/nope"), true],
      ["/healthz", t.client().fetch("/healthz"), false],
      ["/readyz", t.client().fetch("/readyz"), false],
      ["unknown path", t.client().fetch("/definitely/not/here.txt"), false],
    ];
    for (const [label, pending, api] of replies) {
      const res = await pending;
      await res.arrayBuffer();
      expectSecurityHeaders(res, label, api);
    }
  });

  it.skipIf(!webBuilt)("sends them on the web app", async () => {
    for (const path of ["/", "/notes/some-client-route"]) {
      const res = await t.client().fetch(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toMatch(/text\/html/);
      await res.arrayBuffer();
      expectSecurityHeaders(res, path, false);
    }
  });
});

describe("the session cookie", () => {
  function sessionCookie(setCookies: string[]) {
    const raw = setCookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    expect(raw, "a session cookie is set").toBeDefined();
    const [pair, ...attrs] = raw!.split(";").map((p) => p.trim());
    const attributes = new Map(
      attrs.map((a) => {
        const eq = a.indexOf("=");
        return eq < 0 ? [a.toLowerCase(), ""] : [a.slice(0, eq).toLowerCase(), a.slice(eq + 1)];
      }),
    );
    return { value: pair!.slice(SESSION_COOKIE.length + 1), attributes };
  }

  function expectFlags(setCookies: string[], secure: boolean) {
    const { value, attributes } = sessionCookie(setCookies);
    expect(value).toMatch(/^[a-z2-7]{32}$/);
    expect(attributes.has("httponly")).toBe(true);
    expect(attributes.get("samesite")?.toLowerCase()).toBe("lax");
    expect(attributes.get("path")).toBe("/");
    const maxAge = Number(attributes.get("max-age"));
    expect(maxAge).toBeGreaterThan(THIRTY_DAYS_S - 60 * 60);
    expect(maxAge).toBeLessThanOrEqual(THIRTY_DAYS_S);
    expect(attributes.has("domain")).toBe(false);
    expect(attributes.has("secure")).toBe(secure);
    return value;
  }

  it("is HttpOnly, SameSite=Lax, Path=/, 30 days, and not Secure over http, on sign-in and on sign-up", async () => {
    const { account } = await createUser(t);
    const login = await t.client().mutation("auth.login", { email: account.email, password: account.password });
    expect(login.status).toBe(200);
    const token = expectFlags(login.setCookies, false);
    expect(await t.models.Session.count({ where: { id: hashToken(token) } })).toBe(1);

    const client = t.client();
    const fresh = newAccount();
    expect((await client.mutation("auth.register", fresh)).status).toBe(200);
    const code = codeFrom(await t.smtp.waitFor(fresh.email, /code/i));
    const verified = await client.mutation("auth.verifyEmail", { email: fresh.email, code });
    expect(verified.status).toBe(200);
    expectFlags(verified.setCookies, false);
  });

  it("is Secure when PUBLIC_URL is https", async () => {
    const publicUrl = "https://notes.example.test";
    const secure = await startTestServer({ env: { PUBLIC_URL: publicUrl } });
    try {
      const { account, user } = await createUser(secure);
      const client = secure.client({ origin: publicUrl });
      const login = await client.mutation("auth.login", { email: account.email, password: account.password });
      expect(login.status).toBe(200);
      expectFlags(login.setCookies, true);
      expect(login.headers.get("strict-transport-security")).toMatch(/max-age=\d+/);

      // The Origin to match is PUBLIC_URL's, not the address the server listens on.
      const local = secure.client({ origin: secure.url });
      local.cookies = new Map(client.cookies);
      expect((await local.mutation("auth.logout")).status).toBe(403);
      expect(await secure.models.Session.count({ where: { userId: user.id } })).toBe(1);

      const out = await client.mutation("auth.logout");
      expect(out.status).toBe(200);
      const cleared = out.setCookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`));
      expect(cleared).toMatch(/Max-Age=0/);
      expect(cleared).toMatch(/;\s*Secure/);
      expect(await secure.models.Session.count({ where: { userId: user.id } })).toBe(0);
    } finally {
      await secure.close();
    }
  });
});

describe("reading the Cookie header", () => {
  /** A signed-in call through the lean endpoint, through tRPC's adapter in Hono (any content type but JSON), and a plain route. */
  async function statuses(cookie: string) {
    const get = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${t.url}${path}`, { headers: { cookie, ...headers } }).then(async (res) => {
        await res.arrayBuffer();
        return res.status;
      });
    return [
      await get("/api/v1/trpc/notes.list"),
      await get("/api/v1/trpc/notes.list", { "content-type": "text/plain" }),
      await get("/api/v1/notes/export?format=json"),
    ];
  }

  it("finds the session among other cookies, the first of a name winning, the same on every way in", async () => {
    const { client } = await signedIn();
    const token = client.sessionToken!;
    expect(await statuses(`theme=dark;${SESSION_COOKIE}=${token} ;  lang=en%2DGB`)).toEqual([200, 200, 200]);
    expect(await statuses(`${SESSION_COOKIE}=${token}; ${SESSION_COOKIE}=${"a".repeat(32)}`)).toEqual([200, 200, 200]);
    expect(await statuses(`${SESSION_COOKIE}=${"a".repeat(32)}; ${SESSION_COOKIE}=${token}`)).toEqual([401, 401, 401]);
    expect(await statuses(`theme=dark; ${SESSION_COOKIE}`)).toEqual([401, 401, 401]);
  });
});

describe("the tRPC body limit", () => {
  it("answers 413 with a JSON error for a body over 4 MB, and writes nothing", async () => {
    const account = newAccount();
    const body = JSON.stringify({ ...account, password: "x".repeat(TRPC_BODY_LIMIT) });
    const res = await t.client().fetch("/api/v1/trpc/auth.register", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
    expectNoInternals(text);
    expect(await t.models.User.count({ where: { email: account.email } })).toBe(0);
  });

  it("also counts a streamed body that declares no length", async () => {
    // node:http on its own connection: the server answers before reading the rest, so the
    // connection must not be reused by the other tests' fetch pool.
    const url = new URL("/api/v1/trpc/auth.register", t.url);
    const chunk = Buffer.alloc(256 * 1024, "x");
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(url, {
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      });
      let answered = false;
      req.on("response", (res) => {
        answered = true;
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: body }));
        res.on("error", reject);
      });
      req.on("error", (error) => {
        if (!answered) reject(error);
      });
      let sent = 0;
      const pump = () => {
        while (!answered && sent <= TRPC_BODY_LIMIT + chunk.length) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    expect(JSON.parse(text)).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
  });

  it("lets a body just under the limit through to validation", async () => {
    const body = JSON.stringify({ ...newAccount(), password: "x".repeat(TRPC_BODY_LIMIT - 1024) });
    expect(body.length).toBeLessThan(TRPC_BODY_LIMIT);
    const res = await t.client().fetch("/api/v1/trpc/auth.register", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { data: { fieldErrors: Record<string, string[]> } } };
    expect(json.error.data.fieldErrors.password).toBeDefined();
  });
});

describe("unknown routes", () => {
  it("answers an unknown /api path with a 404 JSON error, for any method", async () => {
    for (const [method, path] of [
      ["GET", "/api/nope"],
      ["POST", "/api/nope"],
      ["GET", "/api/v2/trpc/auth.me"],
      ["DELETE", "/api/v1/files/not-a-real-route/extra"],
    ] as const) {
      const res = await t.client().fetch(path, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/application\/json/);
      const text = await res.text();
      expect(JSON.parse(text)).toMatchObject({ error: { code: "NOT_FOUND" } });
      expectNoInternals(text);
    }
  });

  it("answers an unknown tRPC procedure with 404", async () => {
    const query = await t.client().query("auth.nothingHere");
    expect(query.status).toBe(404);
    expect(query.error?.data.code).toBe("NOT_FOUND");
    const mutation = await t.client().mutation("nothing.here", {});
    expect(mutation.status).toBe(404);
    expect(mutation.error?.data.code).toBe("NOT_FOUND");
    // A prototype property is not a procedure either.
    const proto = await t.client().query("__proto__.constructor");
    expect(proto.status).toBe(404);
  });
});

describe("health", () => {
  it("answers /healthz with 200 {status: ok}", async () => {
    const res = await t.client().fetch("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("answers /readyz with 200 and a passing database check", async () => {
    const res = await t.client().fetch("/readyz");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; checks: Record<string, boolean> };
    expect(body.status).toBe("ready");
    expect(body.checks.database).toBe(true);
  });
});
