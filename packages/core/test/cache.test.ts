// The cache's promises, for the in-process store and for Redis (when TEST_REDIS_URL is set):
// a write is seen by the next read, a read that raced a write never stores the old answer where
// later reads find it, and a revocation beats a validation that was already under way.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createCache, type Cache } from "../src/cache";

// eslint-disable-next-line no-restricted-properties -- tests choose their services from the environment
const redisUrl = process.env.TEST_REDIS_URL;
const clients: Redis[] = [];
afterAll(() => clients.forEach((c) => c.disconnect()));

const stores: [string, () => Cache][] = [["memory", () => createCache()]];
if (redisUrl) {
  stores.push([
    "redis",
    () => {
      const redis = new Redis(redisUrl, { enableOfflineQueue: true });
      clients.push(redis);
      return createCache({ redis, prefix: `nbtest:${randomBytes(6).toString("hex")}` });
    },
  ]);
}

describe.each(stores)("cache (%s)", (_name, make) => {
  it("answers a repeated read from the cache until the next write", async () => {
    const cache = make();
    let loads = 0;
    const load = () => Promise.resolve({ items: [++loads] });
    expect(await cache.remember("notes", "u1", ["list", { limit: 20 }], load)).toEqual({ items: [1] });
    expect(await cache.remember("notes", "u1", ["list", { limit: 20 }], load)).toEqual({ items: [1] });
    expect(await cache.remember("notes", "u1", ["list", { limit: 10 }], load)).toEqual({ items: [2] });
    await cache.invalidate("notes", "u1");
    expect(await cache.remember("notes", "u1", ["list", { limit: 20 }], load)).toEqual({ items: [3] });
    expect(cache.stats().list).toMatchObject({ hit: 1, miss: 3 });
  });

  it("keeps people and scopes apart", async () => {
    const cache = make();
    await cache.remember("notes", "u1", "k", () => Promise.resolve("notes of u1"));
    expect(await cache.remember("notes", "u2", "k", () => Promise.resolve("notes of u2"))).toBe("notes of u2");
    expect(await cache.remember("files", "u1", "k", () => Promise.resolve("files of u1"))).toBe("files of u1");
    await cache.invalidate("files", "u1");
    expect(await cache.remember("notes", "u1", "k", () => Promise.resolve("reloaded"))).toBe("notes of u1");
  });

  it("never serves what a read loaded before a write that finished while it ran", async () => {
    const cache = make();
    // The read loads the old list, the write commits and invalidates, then the read stores its result.
    const racing = await cache.remember("notes", "u1", "k", async () => {
      await cache.invalidate("notes", "u1");
      return "old";
    });
    expect(racing).toBe("old");
    expect(await cache.remember("notes", "u1", "k", () => Promise.resolve("new"))).toBe("new");
  });

  it("serves a validated session until it or its user is revoked, then never again", async () => {
    const cache = make();
    await cache.storeSession("s1", "u1", () => "session one");
    await cache.storeSession("s2", "u1", () => "session two");
    await cache.storeSession("s3", "u2", () => "session three");
    expect(await cache.readSession("s1")).toBe("session one");

    await cache.forgetSessions(["s1"]);
    expect(await cache.readSession("s1")).toBeNull();
    await cache.forgetUser("u1");
    expect(await cache.readSession("s2")).toBeNull();
    expect(await cache.readSession("s3")).toBe("session three");
  });

  it("refuses to store a validation that read the database before a revocation", async () => {
    const cache = make();
    await cache.forgetSessions(["s1"]);
    await cache.storeSession("s1", "u1", () => "read before the revocation");
    expect(await cache.readSession("s1")).toBeNull();
    await cache.forgetUser("u2");
    await cache.storeSession("s2", "u2", () => "read before the user changed");
    expect(await cache.readSession("s2")).toBeNull();
  });
});

describe("cache on a Redis that is down", () => {
  it("loads every read from the source and fails no call", async () => {
    // Nothing listens on port 1: every command fails at once.
    const redis = new Redis("redis://127.0.0.1:1", {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    redis.on("error", () => undefined);
    const errors: unknown[] = [];
    const cache = createCache({ redis, onError: (e) => errors.push(e) });
    let loads = 0;
    expect(await cache.remember("notes", "u1", "k", () => Promise.resolve(++loads))).toBe(1);
    expect(await cache.remember("notes", "u1", "k", () => Promise.resolve(++loads))).toBe(2);
    await cache.invalidate("notes", "u1");
    await cache.storeSession("s1", "u1", () => "v");
    expect(await cache.readSession("s1")).toBeNull();
    await cache.forgetSessions(["s1"]);
    await cache.forgetUser("u1");
    expect(errors.length).toBeGreaterThan(0);
    expect(cache.stats().list.error).toBe(2);
    redis.disconnect();
  });
});

describe.runIf(redisUrl)("session entries in Redis across versions", () => {
  it("stores under the current format's key, and writes a revocation under the previous one's too", async () => {
    const redis = new Redis(redisUrl!, { enableOfflineQueue: true });
    clients.push(redis);
    const prefix = `nbtest:${randomBytes(6).toString("hex")}`;
    const cache = createCache({ redis, prefix });
    await cache.storeSession("s1", "u1", () => "row");
    expect(await redis.get(`${prefix}:cs2:s1`)).toBe("u1|row");
    // An instance of the previous version reads only "cs" keys: it never sees an entry it cannot read.
    expect(await redis.exists(`${prefix}:cs:s1`)).toBe(0);
    await redis.set(`${prefix}:cs:s2`, "u1|an entry of the previous format");
    await cache.forgetSessions(["s1", "s2"]);
    expect(await cache.readSession("s1")).toBeNull();
    for (const key of ["cs2:s1", "cs:s1", "cs:s2"])
      expect(await redis.get(`${prefix}:${key}`)).not.toMatch(/row|format/);
    expect(await redis.get(`${prefix}:cs:s2`)).toBe(await redis.get(`${prefix}:cs2:s1`));
  });
});
