// /metrics is not public (a bearer token on the main port, or a listener of its own), its labels
// are bounded by the routes and procedures the server knows whatever paths strangers send, and a
// malformed percent-encoding in any path is a client error, never a 500 with a stack trace.
import { existsSync } from "node:fs";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import { METRICS_TOKEN, metricsEnv, scrapeMetrics } from "../support/metrics";
import { createUser, freePort, signIn, startTestServer, type TestServer } from "../support/server";

const DURATION_COUNT = "notebox_http_request_duration_seconds_count";
const webBuilt = existsSync(fileURLToPath(new URL("../../../web/build/index.html", import.meta.url)));

/** The request-duration series, one line each. */
const durationSeries = (text: string) => text.split("\n").filter((line) => line.startsWith(DURATION_COUNT));

/** The count of one duration series, 0 when it does not exist yet. */
function durationCount(text: string, labels: string): number {
  const line = durationSeries(text).find((l) => l.startsWith(`${DURATION_COUNT}{${labels}}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

/**
 * A request whose path goes on the wire exactly as written, with no URL parser in between, as the
 * signed-in `client`; resolves with the status and the body.
 */
function rawRequest(client: TestClient, method: string, rawPath: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(client.baseUrl);
  const headers = { "content-type": "application/json", cookie: client.cookieHeader(), origin: client.origin ?? "" };
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method, path: rawPath, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, text }));
    });
    req.on("error", reject);
    req.end(method === "POST" ? "{}" : undefined);
  });
}

/** Runs `tasks` with at most `width` at once. */
async function inParallel(tasks: (() => Promise<unknown>)[], width = 16): Promise<void> {
  const queue = [...tasks];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let task = queue.shift(); task; task = queue.shift()) await task();
    }),
  );
}

describe("/metrics is not public", () => {
  it("answers 404 on the main port when no token is configured, like any unknown path", async () => {
    const t = await startTestServer();
    try {
      expect((await fetch(`${t.url}/metrics`)).status).toBe(404);
      expect((await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(
        404,
      );
    } finally {
      await t.close();
    }
  });

  describe("with METRICS_TOKEN", () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer({ env: metricsEnv });
    });
    afterAll(() => t.close());

    it.for([
      ["no Authorization header", undefined],
      ["a wrong token of the same length", `Bearer ${"x".repeat(METRICS_TOKEN.length)}`],
      ["a prefix of the token", `Bearer ${METRICS_TOKEN.slice(0, -1)}`],
      ["the token with more after it", `Bearer ${METRICS_TOKEN}x`],
      ["the token as Basic credentials", `Basic ${Buffer.from(`metrics:${METRICS_TOKEN}`).toString("base64")}`],
      ["the token without a scheme", METRICS_TOKEN],
      ["an empty bearer", "Bearer "],
    ] as const)("refuses %s with 401 and a Bearer challenge", async ([, authorization]) => {
      const res = await fetch(`${t.url}/metrics`, { headers: authorization === undefined ? {} : { authorization } });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
      expect(await res.text()).not.toMatch(/notebox_/);
    });

    it("serves the Prometheus text with the right token, the scheme in any case", async () => {
      for (const scheme of ["Bearer", "bearer"]) {
        const res = await fetch(`${t.url}/metrics`, { headers: { authorization: `${scheme} ${METRICS_TOKEN}` } });
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
        expect(await res.text()).toMatch(/^notebox_process_resident_memory_bytes \d+/m);
      }
    });
  });

  describe("with METRICS_PORT", () => {
    it("serves GET /metrics on its own port, nothing else there, and not on the main port", async () => {
      const metricsPort = await freePort();
      const t = await startTestServer({ env: { METRICS_PORT: String(metricsPort) } });
      const metricsBase = `http://127.0.0.1:${metricsPort}`;
      try {
        expect(t.server.metricsUrl).toBe(`http://127.0.0.1:${metricsPort}/metrics`);
        const res = await fetch(`${metricsBase}/metrics`);
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
        expect(await res.text()).toMatch(/^notebox_process_resident_memory_bytes \d+/m);

        expect((await fetch(`${metricsBase}/healthz`)).status).toBe(404);
        expect((await fetch(`${metricsBase}/api/v1/trpc/auth.me`)).status).toBe(404);
        expect((await fetch(`${metricsBase}/metrics`, { method: "POST" })).status).toBe(404);
        expect((await fetch(`${t.url}/metrics`)).status).toBe(404);
      } finally {
        await t.close();
      }
      // Graceful shutdown closes the metrics listener too.
      await expect(fetch(`${metricsBase}/metrics`)).rejects.toThrow();
    });

    it("asks for the token there too when METRICS_TOKEN is set, and the main port still serves nothing", async () => {
      const metricsPort = await freePort();
      const t = await startTestServer({ env: { METRICS_PORT: String(metricsPort), METRICS_TOKEN } });
      const metricsBase = `http://127.0.0.1:${metricsPort}`;
      try {
        const refused = await fetch(`${metricsBase}/metrics`);
        expect(refused.status).toBe(401);
        expect(refused.headers.get("www-authenticate")).toBe("Bearer");
        expect(
          (
            await fetch(`${metricsBase}/metrics`, {
              headers: { authorization: `Bearer ${"y".repeat(METRICS_TOKEN.length)}` },
            })
          ).status,
        ).toBe(401);
        await scrapeMetrics(metricsBase);
        expect(
          (await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status,
        ).toBe(404);
      } finally {
        await t.close();
      }
    });
  });
});

describe("metric labels", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: metricsEnv });
  });
  afterAll(() => t.close());

  it("keeps the number of series bounded whatever paths strangers send", async () => {
    // One round of every kind first, so the series they legitimately create exist already.
    const kinds = (n: number) => [
      () => fetch(`${t.url}/api/v1/trpc/junk-${n}`),
      () => fetch(`${t.url}/api/v1/trpc/junk-${n}`, { method: "POST", body: "{}" }),
      () => fetch(`${t.url}/api/v1/trpc/auth.me,junk-${n},auth.me?batch=1&input=%7B%7D`),
      () => fetch(`${t.url}/api/v1/trpc/notes.list%2Cjunk-${n}?batch=1&input=%7B%7D`),
      () => fetch(`${t.url}/api/v1/junk-${n}`),
      () => fetch(`${t.url}/api/v1/files/junk-${n}/content`),
      () => fetch(`${t.url}/junk-${n}/page`),
      () => fetch(`${t.url}/_app/immutable/junk-${n}.js`),
    ];
    await inParallel(kinds(0));
    await scrapeMetrics(t.url); // a scrape is recorded once it has answered: the next one shows it
    const before = durationSeries(await scrapeMetrics(t.url));

    await inParallel(Array.from({ length: 250 }, (_, i) => kinds(i + 1)).flat());
    const after = durationSeries(await scrapeMetrics(t.url));
    expect(after.filter((line) => /junk/.test(line))).toEqual([]);
    expect(after.length).toBe(before.length);
  });

  it("labels a batch by each of its known procedures once, and everything else as trpc:unknown", async () => {
    const { account } = await createUser(t);
    const client = await signIn(t, account);
    const before = await scrapeMetrics(t.url);
    const res = await client.fetch(`/api/v1/trpc/auth.me,auth.me,files.usage,nope?batch=1&input=%7B%7D`);
    expect(res.status).toBe(207);
    const after = await scrapeMetrics(t.url);
    const delta = (labels: string) => durationCount(after, labels) - durationCount(before, labels);
    expect(delta('method="GET",route="trpc:auth.me",status="207"')).toBe(1);
    expect(delta('method="GET",route="trpc:files.usage",status="207"')).toBe(1);
    expect(delta('method="GET",route="trpc:unknown",status="207"')).toBe(1);
  });

  it("labels a procedure that is not in the router as trpc:unknown", async () => {
    const before = await scrapeMetrics(t.url);
    expect((await fetch(`${t.url}/api/v1/trpc/notes.nope`)).status).toBe(404);
    const after = await scrapeMetrics(t.url);
    const labels = 'method="GET",route="trpc:unknown",status="404"';
    expect(durationCount(after, labels) - durationCount(before, labels)).toBe(1);
    expect(after).not.toMatch(/notes\.nope/);
  });
});

describe("malformed percent-encoding in a path", () => {
  const lines: string[] = [];
  let t: TestServer;
  /** Signed in, so the file route looks the id up instead of asking who is calling. */
  let client: TestClient;
  beforeAll(async () => {
    const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(line) });
    t = await startTestServer({ env: metricsEnv, logger });
    client = await signIn(t, (await createUser(t)).account);
  });
  afterAll(() => t.close());

  const escapes = [
    ["a truncated three-byte sequence", "%E0%A4%A"],
    ["a lone percent sign", "%"],
    ["a percent sign without hex digits", "%zz"],
    ["an overlong encoding of '/'", "%C0%AF"],
    ["a four-byte overlong encoding", "%F0%80%80%AF"],
    ["an encoded UTF-16 surrogate", "%ED%A0%80"],
    ["a byte that is never UTF-8", "%FF"],
  ] as const;
  // Any other path a browser GETs is a page of the single-page app: its index.html, which shows
  // its own "not found" (a 404 when the web app is not built).
  const webPage = webBuilt ? 200 : 404;
  // [where, path, GET status, POST status]: tRPC refuses the path as BAD_REQUEST; every other
  // route finds nothing by that name.
  const targets = (bad: string) =>
    [
      ["a tRPC procedure", `/api/v1/trpc/${bad}`, 400, 400],
      ["a tRPC batch", `/api/v1/trpc/auth.me,${bad}?batch=1&input=%7B%7D`, 400, 400],
      ["a file's content", `/api/v1/files/${bad}/content`, 404, 404],
      ["another API path", `/api/v1/${bad}`, 404, 404],
      ["a hashed asset", `/_app/immutable/${bad}.js`, webPage, 404],
      ["a page", `/notes/${bad}`, webPage, 404],
    ] as const;

  it.for(escapes)("answers %s (%s) with a client error on every route, logging no error", async ([, bad]) => {
    const from = lines.length;
    for (const [where, path, getStatus, postStatus] of targets(bad)) {
      for (const [method, status] of [
        ["GET", getStatus],
        ["POST", postStatus],
      ] as const) {
        const reply = await rawRequest(client, method, path);
        expect(reply.status, `${method} ${where}`).toBe(status);
        expect(reply.text, `${method} ${where}`).not.toMatch(/"stack"|\n\s*at |URIError/);
      }
    }
    const logged = lines.slice(from).map((line) => JSON.parse(line) as { level: number; err?: unknown });
    expect(logged.filter((entry) => entry.level >= 50)).toEqual([]);
    expect(lines.slice(from).join("\n")).not.toMatch(/"stack"|URIError/);
  });

  it("does not create a series for the malformed path", async () => {
    const text = await scrapeMetrics(t.url);
    expect(durationSeries(text).filter((line) => /%|\uFFFD/.test(line))).toEqual([]);
  });
});
