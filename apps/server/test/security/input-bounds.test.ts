// Input is bounded before it is walked: a body nested thousands of levels deep, or a batch of more
// than ten calls, is refused with 400 in milliseconds, before any procedure, rate limit or
// database query runs, and the server keeps answering everyone else.
import { MAX_BATCH_CALLS, MAX_INPUT_DEPTH } from "@notebox/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import { createUser, signIn, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
let client: TestClient;
let userId: string;

beforeAll(async () => {
  t = await startTestServer();
  const { user, account } = await createUser(t);
  userId = user.id;
  client = await signIn(t, account);
});
afterAll(() => t.close());

const nested = (levels: number) => `${"[".repeat(levels)}"x"${"]".repeat(levels)}`;
const deepLogin = (levels: number) => `{"email":${nested(levels)},"password":"x"}`;

interface TrpcError {
  error: { data: { code: string; httpStatus: number; reason: string | null } };
}

async function post(path: string, body: string) {
  const started = performance.now();
  const res = await client.fetch(`/api/v1/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - started };
}

/** /healthz round trips measured while `work` runs, one after the other. */
async function healthWhile(work: Promise<unknown>): Promise<number[]> {
  let done = false;
  void work.finally(() => (done = true));
  const times: number[] = [];
  while (!done || times.length < 3) {
    const started = performance.now();
    const res = await fetch(`${t.url}/healthz`);
    await res.text();
    times.push(performance.now() - started);
  }
  return times;
}

describe("deeply nested input", () => {
  for (const levels of [6_000, 8_000]) {
    it(`refuses ${levels} levels with 400 input_too_deep in milliseconds while /healthz stays fast`, async () => {
      const body = deepLogin(levels);
      await (await fetch(`${t.url}/healthz`)).text(); // a warm connection, as a prober keeps
      const work = Promise.all(Array.from({ length: 4 }, () => post("auth.login", body)));
      const health = await healthWhile(work);
      const replies = await work;
      for (const reply of replies) {
        expect(reply.status).toBe(400);
        const parsed = JSON.parse(reply.text) as TrpcError;
        expect(parsed.error.data.reason).toBe("input_too_deep");
        expect(reply.text).not.toMatch(/\n\s+at\s|stack/);
        expect(reply.ms).toBeLessThan(1_000);
      }
      // Before the bound, one such body held the event loop for seconds. The median is what a
      // prober sees; the worst case is allowed the noise of a busy test machine.
      const sorted = [...health].sort((a, b) => a - b);
      expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(50);
      expect(sorted[sorted.length - 1]).toBeLessThan(500);
    });
  }

  it("refuses four deep inputs in one batch without running any of them", async () => {
    const before = await t.models.AuditEvent.count();
    const body = JSON.stringify(Object.fromEntries([0, 1, 2, 3].map((i) => [i, { email: "x", password: "x" }])));
    const deep = body.replaceAll('"email":"x"', `"email":${nested(6_000)}`);
    const reply = await post("auth.login,auth.login,auth.login,auth.login?batch=1", deep);
    expect(reply.status).toBe(400);
    expect(reply.text).toContain("input_too_deep");
    expect(await t.models.AuditEvent.count()).toBe(before);
  });

  it("refuses a deep input in a GET query the same way", async () => {
    const res = await client.fetch(`/api/v1/trpc/notes.search?input=${encodeURIComponent(`{"q":${nested(2_000)}}`)}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as TrpcError).error.data.reason).toBe("input_too_deep");
  });

  it(`accepts input nested ${MAX_INPUT_DEPTH} levels, and brackets inside strings do not count`, async () => {
    const atLimit = `{"email":${nested(MAX_INPUT_DEPTH - 1)},"password":"x"}`;
    const reply = await post("auth.login", atLimit);
    // Deep enough to be read, so it reaches the schema, which wants a string.
    expect(reply.status).toBe(400);
    expect(reply.text).not.toContain("input_too_deep");
    const bracketsInText = await client.mutation("notes.create", {
      title: "[".repeat(5_000),
      description: "{".repeat(10_000),
    });
    expect(bracketsInText.status).toBe(400); // the title is too long, not too deep
    expect(bracketsInText.error?.data.fieldErrors?.title).toBeDefined();
    const ok = await client.mutation("notes.create", { title: "brackets", description: "[[[{{{".repeat(1_000) });
    expect(ok.status).toBe(200);
  });

  it("still names the field of a NUL character inside nested input", async () => {
    const res = await client.mutation("notes.create", { title: "a\u0000b", description: "x" });
    expect(res.status).toBe(400);
    expect(res.error?.data.fieldErrors).toEqual({ title: ["Text cannot contain NUL characters."] });
  });
});

describe("batches", () => {
  const batchOf = (n: number) => {
    const paths = Array.from({ length: n }, () => "notes.create").join(",");
    const body = JSON.stringify(
      Object.fromEntries(Array.from({ length: n }, (_, i) => [i, { title: `batch ${n} #${i}`, description: "" }])),
    );
    return post(`${paths}?batch=1`, body);
  };

  it(`refuses ${MAX_BATCH_CALLS + 1} calls in one batch with 400 and runs none of them`, async () => {
    const before = await t.models.Note.count({ where: { ownerId: userId } });
    const reply = await batchOf(MAX_BATCH_CALLS + 1);
    expect(reply.status).toBe(400);
    expect(reply.text).toContain("batch_too_large");
    expect(await t.models.Note.count({ where: { ownerId: userId } })).toBe(before);
  });

  it("refuses a batch of 100 searches in a GET at once", async () => {
    const paths = Array.from({ length: 100 }, () => "notes.search").join(",");
    const input = JSON.stringify(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [i, { q: "word" }])));
    const started = performance.now();
    const res = await client.fetch(`/api/v1/trpc/${paths}?batch=1&input=${encodeURIComponent(input)}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("batch_too_large");
    expect(performance.now() - started).toBeLessThan(500);
  });

  it(`runs a batch of ${MAX_BATCH_CALLS}`, async () => {
    const before = await t.models.Note.count({ where: { ownerId: userId } });
    const reply = await batchOf(MAX_BATCH_CALLS);
    expect(reply.status).toBe(200);
    expect(await t.models.Note.count({ where: { ownerId: userId } })).toBe(before + MAX_BATCH_CALLS);
  });
});
