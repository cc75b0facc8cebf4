// Read caches for the hottest reads: each person's note and file lists and searches, and session
// validation. In Redis when REDIS_URL is set (shared by every instance), otherwise in process.
//
// Lists are cached under a per-person version: a read takes the version first, and every write
// bumps it after it is committed, so a read that raced a write stores its result under a version
// nobody asks for any more. Sessions are cached for a few seconds; revoking one, or changing what
// its person may do, leaves a tombstone that both hides the cached entry and stops a validation
// already under way from storing what it read before the change.
//
// Redis is only a cache: when it fails, reads go to the database, and a version bump that could
// not be sent is retried until it is. After an outage, entries stored before it are not trusted
// until they have all expired, since writes and revocations made meanwhile could not reach them.
//
// Without Redis, each worker of a cluster (WORKERS > 1) keeps its own entries, so every version
// bump and tombstone is applied here and then sent through the primary to the other workers,
// which apply it too, by the same rules. The write is answered once they all have: a request sent
// after that answer finds no worker serving the old list or session. The residual window is one
// IPC hop that is not confirmed: a worker that has not applied a change within PEER_TIMEOUT_MS
// (its event loop held up that long) lets the write be answered anyway, and serves what it cached
// before until the message reaches it. A worker that starts later starts empty.
import cluster, { type Worker } from "node:cluster";
import { hash } from "node:crypto";
import type { Redis } from "ioredis";
import { LRUCache } from "lru-cache";

export type CacheScope = "notes" | "files";
export type CacheEvent = "hit" | "miss" | "error";

export interface Cache {
  /** The result of `load`, from the cache when the same read of this person's scope is still current. */
  remember<T>(scope: CacheScope, ownerId: string, key: unknown, load: () => Promise<T>): Promise<T>;
  /** Every cached read of this person's scope is out of date; call once the write is committed. */
  invalidate(scope: CacheScope, ownerId: string): Promise<void>;
  /** A validated session as stored by `storeSession`, or null (absent, expired or revoked). */
  readSession(sessionId: string): Promise<string | null>;
  /** Stores a validation result unless the session or its user changed since it was read. */
  /** `value` is asked for only when it is stored (a disabled cache never asks). */
  storeSession(sessionId: string, userId: string, value: () => string): Promise<void>;
  /** Revokes cached validations of these sessions, at once and on every instance. */
  forgetSessions(sessionIds: string[]): Promise<void>;
  /** Revokes cached validations of every session of this user (role, status or password changed). */
  forgetUser(userId: string): Promise<void>;
  /** Lookups so far, by cache and outcome (for /metrics). */
  stats(): CacheStats;
}

export type CacheStats = Record<"list" | "session", Record<CacheEvent, number>>;

export interface CacheOptions {
  /** No caching at all: every read goes to the database (benchmarks compare against it). */
  disabled?: boolean;
  redis?: Redis;
  /** Key namespace, so tests and several deployments can share one Redis. */
  prefix?: string;
  /** How long a list or search result may live without being read (bounds memory, not freshness). */
  listTtlMs?: number;
  /** How long a session validation is trusted before the database is asked again. */
  sessionTtlMs?: number;
  onError?: (error: unknown) => void;
  /**
   * This process is a node:cluster worker. Without Redis, its changes are then applied by the
   * other workers as well (through the primary, which runs `relayCacheChanges`).
   */
  clusterWorker?: boolean;
}

const LIST_TTL_MS = 60_000;
const SESSION_TTL_MS = 15_000;
/** Longer than a session entry lives plus any validation in flight: a tombstone outlives both. */
const TOMBSTONE_TTL_MS = 60_000;
const TOMBSTONE = "x";
/** Tries of a version bump before the write is answered anyway (each command gives up after 500 ms). */
const BUMP_ATTEMPTS = 3;

function counters() {
  const stats: CacheStats = { list: { hit: 0, miss: 0, error: 0 }, session: { hit: 0, miss: 0, error: 0 } };
  return { stats, onEvent: (kind: keyof CacheStats, event: CacheEvent) => void stats[kind][event]++ };
}

const done = Promise.resolve();

const digest = (key: unknown) => hash("sha256", JSON.stringify(key), "base64url").slice(0, 32);

export function createCache(options: CacheOptions = {}): Cache {
  if (options.disabled) return noCache();
  return options.redis ? redisCache(options.redis, options) : memoryCache(options);
}

function noCache(): Cache {
  const { stats, onEvent } = counters();
  return {
    remember: (_scope, _owner, _key, load) => {
      onEvent("list", "miss");
      return load();
    },
    invalidate: () => done,
    readSession: () => {
      onEvent("session", "miss");
      return Promise.resolve(null);
    },
    storeSession: () => done,
    forgetSessions: () => done,
    forgetUser: () => done,
    stats: () => stats,
  };
}

function memoryCache({ listTtlMs = LIST_TTL_MS, sessionTtlMs = SESSION_TTL_MS, clusterWorker }: CacheOptions): Cache {
  const { stats, onEvent } = counters();
  const versions = new Map<string, number>();
  /** Each person's entries, so a write frees them at once instead of leaving them to expire. */
  const entryKeys = new Map<string, Set<string>>();
  const entries = new LRUCache<string, string>({
    max: 10_000,
    maxSize: 32 * 1024 * 1024,
    sizeCalculation: (v) => v.length + 64,
    ttl: listTtlMs,
  });
  const sessions = new LRUCache<string, { userId: string; value: string }>({ max: 50_000, ttl: sessionTtlMs });
  const tombstones = new LRUCache<string, true>({ max: 100_000, ttl: TOMBSTONE_TTL_MS });

  const apply = (change: CacheChange) => {
    switch (change.kind) {
      case "invalidate":
        versions.set(change.owner, (versions.get(change.owner) ?? 0) + 1);
        for (const key of entryKeys.get(change.owner) ?? []) entries.delete(key);
        entryKeys.delete(change.owner);
        break;
      case "forgetSessions":
        for (const id of change.sessionIds) {
          tombstones.set(`s:${id}`, true);
          sessions.delete(id);
        }
        break;
      case "forgetUser":
        tombstones.set(`u:${change.userId}`, true);
        break;
    }
  };
  const peers = clusterWorker ? joinPeers(apply) : null;
  /** Applies a change here at once, then on every other worker before the write is answered. */
  const change = (c: CacheChange) => {
    apply(c);
    return peers ? peers.announce(c) : done;
  };

  return {
    async remember(scope, ownerId, key, load) {
      const owner = `${scope}:${ownerId}`;
      const entryKey = `${owner}:${versions.get(owner) ?? 0}:${digest(key)}`;
      const cached = entries.get(entryKey);
      if (cached !== undefined) {
        onEvent("list", "hit");
        return JSON.parse(cached) as Awaited<ReturnType<typeof load>>;
      }
      onEvent("list", "miss");
      const value = await load();
      entries.set(entryKey, JSON.stringify(value));
      let keys = entryKeys.get(owner);
      if (!keys) entryKeys.set(owner, (keys = new Set()));
      keys.add(entryKey);
      return value;
    },
    invalidate: (scope, ownerId) => change({ kind: "invalidate", owner: `${scope}:${ownerId}` }),
    readSession(sessionId) {
      const entry = sessions.get(sessionId);
      const live = entry && !tombstones.has(`s:${sessionId}`) && !tombstones.has(`u:${entry.userId}`);
      onEvent("session", live ? "hit" : "miss");
      return Promise.resolve(live ? entry.value : null);
    },
    storeSession(sessionId, userId, value) {
      if (!tombstones.has(`s:${sessionId}`) && !tombstones.has(`u:${userId}`))
        sessions.set(sessionId, { userId, value: value() });
      return done;
    },
    forgetSessions: (sessionIds) => (sessionIds.length ? change({ kind: "forgetSessions", sessionIds }) : done),
    forgetUser: (userId) => change({ kind: "forgetUser", userId }),
    stats: () => stats,
  };
}

/** What one worker's in-process cache tells the others: the three ways entries go out of date. */
type CacheChange =
  | { kind: "invalidate"; owner: string }
  | { kind: "forgetSessions"; sessionIds: string[] }
  | { kind: "forgetUser"; userId: string };

/**
 * The messages of the cluster protocol, all on one channel: `join` (worker to primary: send me
 * changes), `change` (a worker's change to the primary, then the primary's copy of it to each
 * other worker, with the primary's own id) and `applied` (a worker's receipt to the primary, then
 * the primary's to the change's sender once every other worker has sent one).
 */
type PeerMessage =
  | { channel: typeof CACHE_CHANNEL; type: "join" }
  | { channel: typeof CACHE_CHANNEL; type: "change"; id: number; change: CacheChange }
  | { channel: typeof CACHE_CHANNEL; type: "applied"; id: number };

const CACHE_CHANNEL = "notebox:cache";
/** How long a write waits for the other workers to apply its change before it is answered anyway. */
const PEER_TIMEOUT_MS = 1_000;

const isPeerMessage = (message: unknown): message is PeerMessage =>
  typeof message === "object" && message !== null && (message as PeerMessage).channel === CACHE_CHANNEL;

/** The worker's side: applies the others' changes, and announces its own until all have applied them. */
function joinPeers(apply: (change: CacheChange) => void) {
  const send = (message: PeerMessage, sent?: (error: Error | null) => void) =>
    process.send?.(message, undefined, undefined, sent);
  const receipts = new Map<number, () => void>();
  let lastId = 0;
  process.on("message", (message: unknown) => {
    if (!isPeerMessage(message)) return;
    if (message.type === "change") {
      apply(message.change);
      send({ channel: CACHE_CHANNEL, type: "applied", id: message.id });
    } else if (message.type === "applied") receipts.get(message.id)?.();
  });
  send({ channel: CACHE_CHANNEL, type: "join" });
  return {
    announce(change: CacheChange): Promise<void> {
      const id = ++lastId;
      return new Promise<void>((resolve) => {
        const settle = () => {
          clearTimeout(timer);
          receipts.delete(id);
          resolve();
        };
        const timer = setTimeout(settle, PEER_TIMEOUT_MS);
        receipts.set(id, settle);
        // Not sent (the primary is gone, and this worker with it): nobody is left to tell.
        send({ channel: CACHE_CHANNEL, type: "change", id, change }, (error) => error && settle());
      });
    },
  };
}

/**
 * The primary's side of the workers' in-process caches: passes each change on to every other
 * worker that joined, and tells the sender once they have all applied it (or exited meanwhile).
 */
export function relayCacheChanges(): void {
  const joined = new Set<number>();
  let lastId = 0;
  /** Relayed changes by the primary's id: who sent it, under which id, and who has yet to apply it. */
  const relayed = new Map<number, { from: Worker; id: number; pending: Set<number>; expiry: NodeJS.Timeout }>();
  const settleIf = (relayId: number) => {
    const relay = relayed.get(relayId);
    if (!relay || relay.pending.size > 0) return;
    clearTimeout(relay.expiry);
    relayed.delete(relayId);
    if (relay.from.isConnected()) relay.from.send({ channel: CACHE_CHANNEL, type: "applied", id: relay.id });
  };

  cluster.on("message", (worker, message: unknown) => {
    if (!isPeerMessage(message)) return;
    if (message.type === "join") joined.add(worker.id);
    else if (message.type === "change") {
      const relayId = ++lastId;
      const others = [...joined].filter((id) => id !== worker.id);
      // By then the sender has stopped waiting: a worker that never answers leaves nothing behind.
      const expiry = setTimeout(() => relayed.delete(relayId), 2 * PEER_TIMEOUT_MS).unref();
      relayed.set(relayId, { from: worker, id: message.id, pending: new Set(others), expiry });
      for (const id of others) {
        cluster.workers?.[id]?.send({ channel: CACHE_CHANNEL, type: "change", id: relayId, change: message.change });
      }
      settleIf(relayId);
    } else if (message.type === "applied") {
      relayed.get(message.id)?.pending.delete(worker.id);
      settleIf(message.id);
    }
  });
  cluster.on("exit", (worker) => {
    joined.delete(worker.id);
    for (const [relayId, relay] of relayed) {
      relay.pending.delete(worker.id);
      if (relay.from !== worker) settleIf(relayId);
      else {
        clearTimeout(relay.expiry);
        relayed.delete(relayId);
      }
    }
  });
}

// One round trip each. A session entry is "userId|value", so the read can check the user's
// tombstone too.
const READ_LIST = `
local v = redis.call('GET', KEYS[1]) or '0'
return {v, redis.call('GET', KEYS[1] .. ':' .. v .. ':' .. ARGV[1])}`;
const READ_SESSION = `
local s = redis.call('GET', KEYS[1])
if not s or s == '${TOMBSTONE}' then return false end
local uid = string.match(s, '^[^|]*')
if redis.call('EXISTS', ARGV[1] .. uid) == 1 then return false end
return s`;
const STORE_SESSION = `
if redis.call('GET', KEYS[1]) == '${TOMBSTONE}' or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

function redisCache(
  redis: Redis,
  { prefix = "nb", listTtlMs = LIST_TTL_MS, sessionTtlMs = SESSION_TTL_MS, onError }: CacheOptions,
): Cache {
  const { stats, onEvent } = counters();
  const versionKey = (scope: CacheScope, ownerId: string) => `${prefix}:cv:${scope}:${ownerId}`;
  // The entry's format is versioned with its key: "cs2" holds the session check's row (2026-12-06),
  // "cs" held model instances. An instance of the previous version never reads an entry it cannot
  // understand, and revocations are written under both keys, so that one still running (a rolling
  // upgrade) honours them.
  const sessionKey = (id: string) => `${prefix}:cs2:${id}`;
  const previousSessionKey = (id: string) => `${prefix}:cs:${id}`;
  const userPrefix = `${prefix}:cu:`;
  // Scripts are sent once and then called by their hash (EVALSHA).
  redis.defineCommand("notebox_read_list", { numberOfKeys: 1, lua: READ_LIST });
  redis.defineCommand("notebox_read_session", { numberOfKeys: 1, lua: READ_SESSION });
  redis.defineCommand("notebox_store_session", { numberOfKeys: 2, lua: STORE_SESSION });
  const script = (name: string, ...args: (string | number)[]) =>
    (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[name]!(...args);

  let outage = false;
  /** Until then, cached entries may predate writes made during an outage: read through to the database. */
  let distrustUntil = 0;
  const distrust = () => (distrustUntil = Math.max(distrustUntil, Date.now() + Math.max(listTtlMs, sessionTtlMs)));
  /**
   * After a failed or timed-out command, reads skip Redis for a moment instead of waiting on it
   * again. A timeout counts as an outage, as a closed connection does: a command that timed out
   * here may have been another instance's write that could not be announced, so entries stored
   * before it are not trusted until they have expired.
   */
  let skipUntil = 0;
  const skipping = () => Date.now() < skipUntil;
  const failed = (error: unknown) => {
    skipUntil = Date.now() + 2_000;
    distrust();
    onError?.(error);
  };

  /** Version bumps Redis refused: retried every second until sent; meanwhile those people read uncached here. */
  const pending = new Set<string>();
  let retry: NodeJS.Timeout | undefined;
  const bump = async (key: string) => {
    await redis
      .multi()
      .incr(key)
      .pexpire(key, 24 * 60 * 60 * 1000)
      .exec();
  };
  const flushPending = async () => {
    for (const key of [...pending]) {
      await bump(key);
      pending.delete(key);
    }
    clearInterval(retry);
    retry = undefined;
  };
  const bumpLater = (key: string) => {
    pending.add(key);
    retry ??= setInterval(() => void flushPending().catch(() => undefined), 1_000).unref();
  };

  redis.on("close", () => (outage = true));
  redis.on("ready", () => {
    if (outage) distrust();
    outage = false;
    void flushPending().catch(() => undefined);
  });

  return {
    async remember(scope, ownerId, key, load) {
      const vKey = versionKey(scope, ownerId);
      let version: string | null = null;
      if (skipping()) onEvent("list", "error");
      else {
        try {
          const [v, cached] = (await script("notebox_read_list", vKey, digest(key))) as [string, string | null];
          if (cached !== null && Date.now() >= distrustUntil && !pending.has(vKey)) {
            onEvent("list", "hit");
            return JSON.parse(cached) as Awaited<ReturnType<typeof load>>;
          }
          version = pending.has(vKey) ? null : v;
          onEvent("list", "miss");
        } catch (error) {
          onEvent("list", "error");
          failed(error);
        }
      }
      const value = await load();
      if (version !== null) {
        void redis.set(`${vKey}:${version}:${digest(key)}`, JSON.stringify(value), "PX", listTtlMs).catch(failed);
      }
      return value;
    },
    // The write is answered only after its bump, so no instance can serve a list without it: the
    // bump is sent even while reads skip Redis, and tried again before giving up. Given up (Redis
    // unreachable from here for ~2 s), it is retried every second; this instance reads the person
    // uncached meanwhile, and the others at worst serve what they cached before, for `listTtlMs`.
    async invalidate(scope, ownerId) {
      const key = versionKey(scope, ownerId);
      for (let attempt = 1; ; attempt++) {
        try {
          await bump(key);
          return;
        } catch (error) {
          failed(error);
          if (attempt === BUMP_ATTEMPTS) return bumpLater(key);
          await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
        }
      }
    },
    async readSession(sessionId) {
      if (Date.now() < distrustUntil || skipping()) {
        onEvent("session", "error");
        return null;
      }
      try {
        const value = (await script("notebox_read_session", sessionKey(sessionId), userPrefix)) as string | null;
        onEvent("session", value ? "hit" : "miss");
        return value ? value.slice(value.indexOf("|") + 1) : null;
      } catch (error) {
        onEvent("session", "error");
        failed(error);
        return null;
      }
    },
    async storeSession(sessionId, userId, value) {
      if (skipping()) return;
      try {
        await script(
          "notebox_store_session",
          sessionKey(sessionId),
          userPrefix + userId,
          `${userId}|${value()}`,
          sessionTtlMs,
        );
      } catch (error) {
        failed(error);
      }
    },
    // Revocations are always attempted, even while reads skip Redis.
    async forgetSessions(sessionIds) {
      if (sessionIds.length === 0) return;
      const pipeline = redis.pipeline();
      for (const id of sessionIds) {
        pipeline.set(sessionKey(id), TOMBSTONE, "PX", TOMBSTONE_TTL_MS);
        pipeline.set(previousSessionKey(id), TOMBSTONE, "PX", TOMBSTONE_TTL_MS);
      }
      await pipeline.exec().catch(failed);
    },
    async forgetUser(userId) {
      await redis.set(userPrefix + userId, "1", "PX", TOMBSTONE_TTL_MS).then(() => undefined, failed);
    },
    stats: () => stats,
  };
}
