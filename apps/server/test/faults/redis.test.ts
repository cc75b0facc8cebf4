// Redis is a cache (DESIGN §5): killed or stalled under load, every request still succeeds (rate limits and
// caches fall back in process), nothing acknowledged is lost, and Notebox picks Redis up again
// once it is back. Runs once, in the SQLite project, against a private redis-server.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import { missing, testDb } from "../support/env";
import { walkPages, type NoteSummary } from "../support/notes";
import { startServerProcess, type ServerProcess } from "../support/process";
import {
  createAdminWithCli,
  processAdmin,
  redisAvailable,
  signInTo,
  startLoad,
  startPrivateRedis,
  statusesByPhase,
  type LoadRequest,
  type PrivateService,
} from "../support/services";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Readiness {
  status: number;
  body: { status: string; checks: Record<string, boolean> };
}
async function readiness(server: ServerProcess): Promise<Readiness> {
  const res = await fetch(`${server.url}/readyz`);
  return { status: res.status, body: (await res.json()) as Readiness["body"] };
}

describe.runIf(testDb === "sqlite")("Redis failing under load", () => {
  let dataDir: string;
  let redis: PrivateService | undefined;
  let server: ServerProcess | undefined;
  let client: TestClient;

  beforeAll(async () => {
    if (!redisAvailable()) return;
    dataDir = await mkdtemp(path.join(os.tmpdir(), "notebox-redisfault-"));
    redis = await startPrivateRedis();
    const env = { DATA_DIR: dataDir, REDIS_URL: redis.url };
    await createAdminWithCli(env);
    server = await startServerProcess(env);
    client = await signInTo(server);
  });

  afterAll(async () => {
    await server?.stop();
    await redis?.dispose();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** Writes, the reads a cache would serve, and the session check every request makes. */
  function startMixedLoad() {
    const mixed: ((n: number) => LoadRequest)[] = [
      (n) => ({
        op: "notes.create",
        send: async () => {
          const res = await client.mutation<{ id: string }>("notes.create", {
            title: `cached ${n}`,
            description: `word${n % 7}`,
          });
          return { status: res.status, id: res.status === 200 ? res.data.id : undefined, message: res.error?.message };
        },
      }),
      () => ({
        op: "notes.list",
        send: async () => {
          const res = await client.query("notes.list", { limit: 20 });
          return { status: res.status, message: res.error?.message };
        },
      }),
      (n) => ({
        op: "notes.search",
        send: async () => {
          const res = await client.query("notes.search", { q: `word${n % 7}` });
          return { status: res.status, message: res.error?.message };
        },
      }),
      () => ({
        op: "auth.me",
        send: async () => {
          const res = await client.query<{ email: string } | null>("auth.me");
          // A session the server stopped recognising would answer 200 with null.
          return {
            status: res.status === 200 && res.data?.email !== processAdmin.email ? 401 : res.status,
            message: res.error?.message,
          };
        },
      }),
    ];
    return startLoad(3, (n) => mixed[n % mixed.length]!(n));
  }

  it("answers every request, loses no write, and uses Redis again once it is back", async (ctx) => {
    if (!redis || !server) return missing(ctx, "Redis is not installed (redis-server)");
    const cache = redis;
    const notebox = server;

    const load = startMixedLoad();

    await sleep(1_000);
    const readyBefore = await readiness(notebox);
    load.phase = "down";
    await cache.stop("SIGKILL");
    await sleep(1_500);
    const readyWhileDown = await readiness(notebox);
    const healthWhileDown = (await fetch(`${notebox.url}/healthz`)).status;
    // A sign-in while Redis is away: the rate limit falls back to its in-process counter.
    const signInWhileDown = await notebox
      .client()
      .mutation("auth.login", { email: processAdmin.email, password: processAdmin.password });
    await sleep(1_500);

    load.phase = "back";
    await cache.start();
    await sleep(2_000);
    const outcomes = await load.stop();
    // ioredis reconnects with a growing delay (at most 2 s).
    let readyAfter = await readiness(notebox);
    for (let i = 0; i < 50 && readyAfter.status !== 200; i++) {
      await sleep(100);
      readyAfter = await readiness(notebox);
    }

    const table = statusesByPhase(outcomes);
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    console.info(
      "redis fault:",
      JSON.stringify({
        statusesByPhase: table,
        slowestMs: slowest,
        readyzWhileDown: readyWhileDown,
        readyzAfter: readyAfter.status,
        signInWhileDown: signInWhileDown.status,
      }),
    );

    // Not one failure: Redis being away costs nothing but speed.
    expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
    expect(slowest).toBeLessThan(5_000);
    for (const phase of ["before", "down", "back"]) expect(table[phase]?.[200], phase).toBeGreaterThan(0);
    expect(signInWhileDown.status).toBe(200);

    // /readyz reports Redis but stays ready without it: requests still succeed, so the balancer
    // must keep sending them (liveness, /healthz, stays 200 too).
    expect(readyBefore).toEqual({
      status: 200,
      body: { status: "ready", checks: expect.objectContaining({ redis: true, database: true }) as unknown },
    });
    expect(readyWhileDown.status).toBe(200);
    expect(readyWhileDown.body).toMatchObject({
      status: "ready",
      checks: { draining: false, database: true, storage: true, redis: false },
    });
    expect(healthWhileDown).toBe(200);
    expect(readyAfter).toEqual({
      status: 200,
      body: { status: "ready", checks: expect.objectContaining({ redis: true }) as unknown },
    });
    expect(notebox.alive(), notebox.stderr().slice(0, 2000)).toBe(true);

    const listed = (await walkPages<NoteSummary>(client, "notes.list", { limit: 100 })).flat().map((n) => n.id);
    const acknowledged = outcomes.filter((o) => o.op === "notes.create" && o.status === 200).map((o) => o.id!);
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(acknowledged.filter((id) => !listed.includes(id))).toEqual([]);
    expect(listed).toHaveLength(acknowledged.length);
  });

  it("answers every request without waiting long when Redis stops answering (slow, not down)", async (ctx) => {
    if (!redis || !server) return missing(ctx, "Redis is not installed (redis-server)");
    const admin = new Redis(redis.url);
    try {
      const load = startMixedLoad();
      await sleep(1_000);
      load.phase = "paused";
      // Redis holds every command for 3 s: connected, but not answering.
      await admin.call("CLIENT", "PAUSE", "3000", "ALL");
      await sleep(3_500);
      load.phase = "back";
      await sleep(1_500);
      const outcomes = await load.stop();
      const slowest = Math.max(...outcomes.filter((o) => o.phase === "paused").map((o) => o.ms));
      console.info("redis paused:", JSON.stringify({ statusesByPhase: statusesByPhase(outcomes), slowestMs: slowest }));

      expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
      for (const phase of ["before", "paused", "back"])
        expect(statusesByPhase(outcomes)[phase]?.[200], phase).toBeGreaterThan(0);
      // A command gives up after 500 ms, and then reads skip Redis for a while instead of waiting again.
      expect(slowest).toBeLessThan(2_500);
    } finally {
      admin.disconnect();
    }
  });
});
