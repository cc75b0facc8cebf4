// Caches stay right when Redis is slow, not down (issue 12, item 2). Two instances share one
// database and a private Redis; A reaches it through a proxy that holds A's traffic for 700 ms
// again and again (Redis slow for A only, as under CPU contention), while notes are written on A:
// every note A acknowledged is in B's next list and in A's. Before, A skipped Redis for 2 s after a
// timed-out command and only queued its version bumps, so B kept serving the list it had cached.
// Runs once, in the MySQL project.
import { randomBytes } from "node:crypto";
import { createServer, connect, type Server, type Socket } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { testDb } from "../support/env";
import type { Page } from "../support/files";
import type { Note, NoteSummary } from "../support/notes";
import { startServerProcess, type ServerProcess } from "../support/process";
import { createAdminWithCli, freePort, signInTo, startPrivateRedis, type PrivateService } from "../support/services";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A TCP proxy to `port` that, while `slow` is set, holds every chunk in both directions for
 * `delayMs` (in order: nothing overtakes what is held).
 */
async function slowProxy(port: number, delayMs: number) {
  const state = { slow: false };
  const sockets = new Set<Socket>();
  const relay = (from: Socket, to: Socket) => {
    let releaseAt = 0;
    from.on("data", (chunk) => {
      releaseAt = Math.max(releaseAt, state.slow ? Date.now() + delayMs : Date.now());
      const wait = releaseAt - Date.now();
      if (wait <= 0) to.write(chunk);
      else setTimeout(() => to.destroyed || to.write(chunk), wait);
    });
    from.on("close", () => to.destroy());
    from.on("error", () => to.destroy());
  };
  const server: Server = createServer((client) => {
    const upstream = connect(port, "127.0.0.1");
    for (const s of [client, upstream]) sockets.add(s);
    relay(client, upstream);
    relay(upstream, client);
  });
  const listenPort = await freePort();
  await new Promise<void>((resolve) => server.listen(listenPort, "127.0.0.1", resolve));
  return {
    url: `redis://127.0.0.1:${listenPort}`,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe.runIf(testDb === "mysql")("Redis slow under writes on two instances", () => {
  let dir: string;
  let db: TestDatabase;
  let redis: PrivateService;
  let proxy: Awaited<ReturnType<typeof slowProxy>>;
  let a: ServerProcess;
  let b: ServerProcess;
  let onA: TestClient;
  let onB: TestClient;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "notebox-redis-slow-"));
    db = await createTestDatabase(dir);
    redis = await startPrivateRedis();
    proxy = await slowProxy(redis.port, 700);
    const shared = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      STORAGE_URL: `file:${path.join(dir, "files")}`,
      JWT_SECRET: randomBytes(48).toString("base64url"),
    };
    await createAdminWithCli({ ...shared, DATA_DIR: path.join(dir, "cli") });
    [a, b] = await Promise.all([
      startServerProcess({ ...shared, REDIS_URL: proxy.url, DATA_DIR: path.join(dir, "a") }),
      startServerProcess({ ...shared, DATA_DIR: path.join(dir, "b") }),
    ]);
    onA = await signInTo(a);
    onB = await signInTo(b);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await proxy?.close();
    await redis?.dispose();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("never answers a write while the other instance can still list without it", async () => {
    const list = async (client: TestClient) => {
      const res = await client.query<Page<NoteSummary>>("notes.list", { limit: 100 });
      expect(res.status).toBe(200);
      return res.data.items.map((n) => n.id);
    };
    // Redis is slow for A for 700 ms, then fine for 500-800 ms, and again, for the whole test.
    let pausing = true;
    const pauses = (async () => {
      while (pausing) {
        proxy.state.slow = true;
        await sleep(700);
        proxy.state.slow = false;
        await sleep(500 + Math.floor(Math.random() * 300));
      }
    })();
    const missing: string[] = [];
    try {
      for (let i = 0; i < 25; i++) {
        await list(onB); // B caches its list
        const created = await onA.mutation<Note>("notes.create", { title: `while Redis is slow ${i}` });
        expect(created.status).toBe(200);
        if (!(await list(onB)).includes(created.data.id)) missing.push(`B lacks ${i}`);
        if (!(await list(onA)).includes(created.data.id)) missing.push(`A lacks ${i}`);
        await sleep(Math.floor(Math.random() * 150));
      }
    } finally {
      pausing = false;
      await pauses;
    }
    expect(missing).toEqual([]);
  });
});
