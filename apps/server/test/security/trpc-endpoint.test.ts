// tRPC's JSON calls are answered straight from node:http (src/trpc-endpoint.ts) and everything
// else on /api/v1/trpc by tRPC's fetch adapter in the Hono app: both must speak tRPC's protocol
// (batches, method rules, malformed requests, statuses) and carry the same headers.
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser, signIn, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

type Shaped = { result?: { data: unknown }; error?: { message: string; data: { code: string; httpStatus: number } } };

function post(procedure: string, body: string, contentType = "application/json") {
  return t.client().fetch(`/api/v1/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": contentType },
    body,
  });
}

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await t.client().fetch(`/api/v1/trpc/${path}`, { headers });
  return { res, text: await res.text() };
}

describe("tRPC's JSON calls", () => {
  it("answer a batch in order, 207 when its calls end differently", async () => {
    const input = encodeURIComponent(JSON.stringify({ 1: { id: "nope" } }));
    const { res, text } = await get(`auth.signUpPolicy,notes.get,auth.nothingHere?batch=1&input=${input}`);
    expect(res.status).toBe(207);
    const [policy, note, unknown] = JSON.parse(text) as Shaped[];
    expect(policy!.result?.data).toMatchObject({ passwordSignIn: true });
    expect(note!.error?.data).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
    expect(unknown!.error?.data).toMatchObject({ code: "NOT_FOUND", httpStatus: 404 });
  });

  it("answer a batch whose calls all fail alike with that status", async () => {
    const { res, text } = await get("notes.list,files.list?batch=1&input=%7B%7D");
    expect(res.status).toBe(401);
    expect((JSON.parse(text) as Shaped[]).map((r) => r.error?.data.code)).toEqual(["UNAUTHORIZED", "UNAUTHORIZED"]);
  });

  it("refuse a query sent as POST and a mutation sent as GET with 405 and Allow", async () => {
    const query = await post("auth.me", "{}");
    expect(query.status).toBe(405);
    expect(query.headers.get("allow")).toBe("GET");
    const mutation = await get("auth.logout");
    expect(mutation.res.status).toBe(405);
    expect(mutation.res.headers.get("allow")).toBe("POST");
    expect((JSON.parse(mutation.text) as Shaped).error?.data.code).toBe("METHOD_NOT_SUPPORTED");
  });

  it("refuse malformed requests with 400, never 500", async () => {
    for (const path of [
      "notes.get?input=%7Bnot%20json",
      "notes.list?batch=1&input=%5B1%2C2%5D",
      "notes.list?batch=1&input=42",
      "notes.%E0%A4%A?input=%7B%7D",
    ]) {
      const { res, text } = await get(path);
      expect(res.status, path).toBeLessThan(500);
      expect([400, 401, 404], path).toContain(res.status);
      expect(text, path).not.toMatch(/(?:\n|\\n)\s*at\s|node_modules|\.ts:\d+/);
    }
    const bad = await post("auth.register", "{not json");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Shaped).error?.data.code).toBe("BAD_REQUEST");
  });

  it("send the same headers as the rest of the API, and echo a plain X-Request-Id", async () => {
    const lean = await get("auth.me", { "x-request-id": "trace-123" });
    const health = await t.client().fetch("/healthz");
    expect(lean.res.headers.get("x-request-id")).toBe("trace-123");
    expect(lean.res.headers.get("cache-control")).toBe("no-store");
    for (const name of ["content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"]) {
      expect(lean.res.headers.get(name), name).toBe(health.headers.get(name));
    }
    const odd = await get("auth.me", { "x-request-id": "has spaces and ;" });
    expect(odd.res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("compress a large answer for a client that accepts it", async () => {
    const { account } = await createUser(t);
    const client = await signIn(t, account);
    for (let i = 0; i < 20; i++) {
      await client.mutation("notes.create", { title: `Compressed ${i}`, description: "words ".repeat(60) });
    }
    const res = await client.fetch(`/api/v1/trpc/notes.list?input=${encodeURIComponent("{}")}`, {
      headers: { "accept-encoding": "gzip" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(res.headers.get("vary")).toMatch(/Accept-Encoding/);
    expect(((await res.json()) as { result: { data: { items: unknown[] } } }).result.data.items).toHaveLength(20);
  });
});

describe("what only tRPC's fetch adapter serves", () => {
  it("answers HEAD with 204 and a body that is not JSON with 415", async () => {
    const head = await t.client().fetch("/api/v1/trpc/auth.me", { method: "HEAD" });
    expect(head.status).toBe(204);
    const form = await post("auth.logout", "hello", "text/plain");
    expect(form.status).toBe(415);
    expect(form.headers.get("x-frame-options")).toBe("DENY");
  });

  it("streams a batch as JSON Lines when asked to", async () => {
    const { res, text } = await get("auth.signUpPolicy?batch=1&input=%7B%7D", { "trpc-accept": "application/jsonl" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(text.trim().split("\n").length).toBeGreaterThan(1);
    expect(text).toContain("passwordSignIn");
  });
});

describe("a client that goes away mid-body", () => {
  it("costs the server nothing: the next call is answered", async () => {
    const url = new URL("/api/v1/trpc/auth.register", t.url);
    await new Promise<void>((resolve) => {
      const req = request(url, {
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json", "content-length": "100000" },
      });
      req.on("error", () => resolve());
      req.write('{"email":"half');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    const after = await get("auth.signUpPolicy");
    expect(after.res.status).toBe(200);
  });
});
