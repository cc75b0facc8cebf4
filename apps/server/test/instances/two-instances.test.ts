// Two `notebox serve` processes as a balancer would see them: one MariaDB database, one Redis,
// one file store and one JWT secret. Whatever one instance does, the other sees on its very next
// request, caches included: each read on B is warmed first and comes right after the write on A,
// with no wait. Runs once, in the MySQL project (it needs MariaDB/MySQL and Redis).
import { randomBytes, randomInt } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../support/client";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { testDb, testRedisUrl } from "../support/env";
import { contentPath, download, sha256, uploadOne, type FileRecord, type Page } from "../support/files";
import type { Note, NoteSummary, SearchHit } from "../support/notes";
import { startServerProcess, type ServerProcess } from "../support/process";
import { createAdminWithCli, processAdmin } from "../support/services";

/** The real rule (packages/core limits.ts): 30 sign-in attempts per address per 15 minutes. */
const LOGIN_PER_IP = 30;

/** A client of `server` carrying the cookies `from` holds: the same browser, balanced elsewhere. */
function sameBrowser(from: TestClient, server: ServerProcess): TestClient {
  const client = server.client();
  client.cookies = new Map(from.cookies);
  return client;
}

async function signIn(server: ServerProcess, password = processAdmin.password): Promise<TestClient> {
  const client = server.client();
  const res = await client.mutation("auth.login", { email: processAdmin.email, password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.error)}`);
  return client;
}

const word = () => Array.from({ length: 10 }, () => String.fromCharCode(97 + randomInt(26))).join("");

/**
 * The instances run with the CLI's fixed Redis key prefix, so the test gets a Redis database of
 * its own (not the one other tests' servers count sign-ins in) and clears the sign-in counters it
 * filled, which would otherwise lock 127.0.0.1 out for 15 minutes.
 */
function privateRedisUrl(): string {
  const url = new URL(testRedisUrl!);
  url.pathname = `/${randomInt(1, 16)}`;
  return url.toString();
}
async function clearSignInCounters(redisUrl: string) {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const keys = await redis.keys("*rl:loginPerIp:*");
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

describe.runIf(testDb === "mysql" && !!testRedisUrl)("two instances behind one balancer", () => {
  let dir: string;
  let db: TestDatabase | undefined;
  let redisUrl: string;
  let a: ServerProcess;
  let b: ServerProcess;
  /** Signed in on A. */
  let onA: TestClient;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "notebox-instances-"));
    db = await createTestDatabase(dir);
    redisUrl = privateRedisUrl();
    await clearSignInCounters(redisUrl);
    const shared = {
      NODE_ENV: "production",
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      STORAGE_URL: `file:${path.join(dir, "files")}`,
      JWT_SECRET: randomBytes(48).toString("base64url"),
    };
    await createAdminWithCli({ ...shared, DATA_DIR: path.join(dir, "cli") });
    // Each instance has its own data directory (outbox, no secret file): only the shared
    // settings above connect them.
    [a, b] = await Promise.all([
      startServerProcess({ ...shared, DATA_DIR: path.join(dir, "a") }),
      startServerProcess({ ...shared, DATA_DIR: path.join(dir, "b") }),
    ]);
    onA = await signIn(a);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    if (redisUrl) await clearSignInCounters(redisUrl);
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("accepts on B the session made on A, and a token A issued", async () => {
    const onB = sameBrowser(onA, b);
    const me = await onB.query<{ email: string } | null>("auth.me");
    expect(me.status).toBe(200);
    expect(me.data?.email).toBe(processAdmin.email);
    expect((await onB.query("notes.list")).status).toBe(200);

    const issued = await onA.mutation<{ token: string }>("auth.issueToken");
    expect(issued.status).toBe(200);
    const bearer = new TestClient(b.url, null, { authorization: `Bearer ${issued.data.token}` });
    expect((await bearer.query("notes.list")).status).toBe(200);
  });

  it("shows a note written on A in B's very next list and search, and its changes and removal too", async () => {
    const onB = sameBrowser(onA, b);
    const unique = word();
    const listB = async () => {
      const res = await onB.query<Page<NoteSummary>>("notes.list", { limit: 100 });
      expect(res.status).toBe(200);
      return res.data.items;
    };
    const searchB = async (q: string) => {
      const res = await onB.query<Page<SearchHit>>("notes.search", { q });
      expect(res.status).toBe(200);
      return res.data.items.map((hit) => hit.id);
    };
    // Warm whatever B caches.
    const before = await listB();
    expect(await searchB(unique)).toEqual([]);

    const created = await onA.mutation<Note>("notes.create", {
      title: `Shared ${unique}`,
      description: "written on A",
    });
    expect(created.status).toBe(200);
    const note = created.data;
    expect((await listB()).map((n) => n.id)).toEqual([note.id, ...before.map((n) => n.id)]);
    expect(await searchB(unique)).toEqual([note.id]);

    const renamed = word();
    const updated = await onA.mutation<Note>("notes.update", {
      id: note.id,
      title: `Renamed ${renamed}`,
      version: note.version,
    });
    expect(updated.status).toBe(200);
    expect((await listB()).find((n) => n.id === note.id)?.title).toBe(`Renamed ${renamed}`);
    expect(await searchB(renamed)).toEqual([note.id]);
    expect(await searchB(unique)).toEqual([]);
    // B's view is current enough to write with: its version is the one A just made.
    const onBGet = await onB.query<Note>("notes.get", { id: note.id });
    expect(onBGet.data.version).toBe(updated.data.version);

    expect((await onA.mutation("notes.delete", { id: note.id })).status).toBe(200);
    expect((await listB()).map((n) => n.id)).not.toContain(note.id);
    expect(await searchB(renamed)).toEqual([]);
  });

  it("lists and serves on B a file uploaded on A, and forgets it on A once B deletes it", async () => {
    const onB = sameBrowser(onA, b);
    const listOn = async (client: TestClient) => {
      const res = await client.query<Page<FileRecord>>("files.list");
      expect(res.status).toBe(200);
      return res.data.items.map((f) => f.id);
    };
    const before = await listOn(onB);
    await listOn(onA);

    const bytes = randomBytes(200 * 1024);
    const file = await uploadOne(onA, "from-a.bin", bytes);
    expect(await listOn(onB)).toEqual([file.id, ...before]);
    const got = await download(onB, file.id);
    expect(got.res.status).toBe(200);
    expect(sha256(got.bytes)).toBe(sha256(bytes));

    expect((await onB.mutation("files.delete", { id: file.id })).status).toBe(200);
    expect(await listOn(onA)).toEqual(before);
    expect((await onA.fetch(contentPath(file.id))).status).toBe(404);
  });

  it("refuses on B, at once, a session signed out or revoked on A", async () => {
    // Signed out on A.
    const leaving = await signIn(a);
    const leavingOnB = sameBrowser(leaving, b);
    expect((await leavingOnB.query("notes.list")).status).toBe(200); // now cached on B, if B caches
    expect((await leaving.mutation("auth.logout")).status).toBe(200);
    expect((await leavingOnB.query("notes.list")).status).toBe(401);

    // Revoked from another device, on A.
    const phone = await signIn(a);
    const phoneOnB = sameBrowser(phone, b);
    expect((await phoneOnB.query("notes.list")).status).toBe(200);
    const sessions = await onA.query<{ items: { id: string; current: boolean }[] }>("auth.sessions.list");
    const others = sessions.data.items.filter((s) => !s.current);
    expect(others).toHaveLength(1);
    expect((await onA.mutation("auth.sessions.revoke", { id: others[0]!.id })).status).toBe(200);
    expect((await phoneOnB.query("notes.list")).status).toBe(401);
  });

  it("ends on B, at once, the other sessions of a person whose password changed on A", async () => {
    const laptop = await signIn(b);
    expect((await laptop.query("notes.list")).status).toBe(200);
    const newPassword = `${processAdmin.password} and then some`;
    const changed = await onA.mutation("auth.changePassword", { currentPassword: processAdmin.password, newPassword });
    expect(changed.status).toBe(200);
    expect((await laptop.query("notes.list")).status).toBe(401);
    // The session that changed it carries on, on either instance.
    expect((await sameBrowser(onA, b).query("notes.list")).status).toBe(200);
    const back = await onA.mutation("auth.changePassword", {
      currentPassword: newPassword,
      newPassword: processAdmin.password,
    });
    expect(back.status).toBe(200);
  });

  it("counts sign-in attempts across both instances, not per instance", async () => {
    await clearSignInCounters(redisUrl);
    const attempt = (n: number) =>
      (n % 2 === 0 ? a : b)
        .client()
        .mutation("auth.login", { email: `nobody.${n}.${word()}@example.test`, password: "not the password" });
    // Each address is new, so only the per-address limit can refuse.
    for (let n = 0; n < LOGIN_PER_IP; n++) {
      const res = await attempt(n);
      expect(res.status, `attempt ${n + 1} (on ${n % 2 === 0 ? "A" : "B"})`).toBe(401);
    }
    const refusedOnA = await attempt(LOGIN_PER_IP);
    expect(refusedOnA.status).toBe(429);
    expect(Number(refusedOnA.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await attempt(LOGIN_PER_IP + 1)).status).toBe(429);
  });
});
