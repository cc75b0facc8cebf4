// bench/cache: notes.list (20 per page, signed in) through tRPC with the Redis cache warm vs with
// the caches off, on MariaDB/MySQL — the production shape, where every uncached list is a query
// over the network. Both servers run side by side on the same database and notes; the load
// alternates between them. Needs MariaDB/MySQL and Redis (BENCH_MYSQL_URL, BENCH_REDIS_URL).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import mysql from "mysql2/promise";
import {
  benchEntry,
  cannon,
  fmt,
  run,
  seedNotes,
  signIn,
  startNotebox,
  summarizeRuns as summary,
} from "./lib/notebox.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const noteCount = Number(process.env.BENCH_LIST_NOTES ?? 1000);
const serverUrl = process.env.BENCH_MYSQL_URL || "mysql://notebox:notebox@127.0.0.1:3306/";
const redisUrl = process.env.BENCH_REDIS_URL || "redis://127.0.0.1:6379";
const connections = 10;
const rounds = 2;
const dbName = `notebox_bench_cache_${randomBytes(4).toString("hex")}`;
const email = "cached@example.test";
const password = "bench passphrase for the cache";

const admin = await mysql.createConnection(serverUrl);
await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
const databaseUrl = `${serverUrl.replace(/\/[^/]*$/, "")}/${dbName}`;
// The Redis database the bench may empty: never the one the shared services use by default.
const redisDb = `${redisUrl.replace(/\/\d*$/, "")}/9`;
const dirs = [];
const servers = [];
try {
  const start = async (env, args) => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "notebox-bench-cache-"));
    dirs.push(dataDir);
    const server = await startNotebox(
      { DATABASE_URL: databaseUrl, JWT_SECRET: "bench-secret-bench-secret-bench-secret-0123", ...env },
      { entry: benchEntry, args, dataDir },
    );
    servers.push(server);
    return server;
  };
  const withCache = await start({ REDIS_URL: redisDb }, []);
  const withoutCache = await start({}, ["--no-cache"]);
  await run(["create-admin", "--email", email, "--username", "cached", "--password-stdin"], withCache.env, password);
  const cookie = await signIn(withCache, email, password);
  await seedNotes(withCache, cookie, noteCount);

  const target = (server) => ({
    url: `${server.url}/api/v1/trpc/notes.list?input=${encodeURIComponent(JSON.stringify({ limit: 20 }))}`,
    headers: { cookie },
  });
  const warm = target(withCache);
  const cold = target(withoutCache);
  const [a, b] = await Promise.all([warm, cold].map((t) => fetch(t.url, { headers: t.headers }).then((r) => r.json())));
  if (JSON.stringify(a.result.data) !== JSON.stringify(b.result.data))
    throw new Error("the two servers answer different pages");

  for (const t of [warm, cold]) await cannon({ ...t, connections, duration: 3 }); // warm-up (fills the cache)
  const results = { warm: [], cold: [] };
  for (let r = 0; r < rounds; r++) {
    results.warm.push(await cannon({ ...warm, connections, duration: seconds }));
    results.cold.push(await cannon({ ...cold, connections, duration: seconds }));
  }
  const redis = new Redis(redisDb);
  const keys = await redis.dbsize();
  await redis.flushdb();
  redis.disconnect();

  const w = summary(results.warm);
  const c = summary(results.cold);
  console.log("bench/cache");
  console.log(
    `  user with ${noteCount} notes, 20 per page, MariaDB/MySQL + Redis; ${connections} connections, ${rounds} x ${seconds} s per side, alternating`,
  );
  console.log(
    `  Redis cache warm:  ${fmt(w.rps, 0)} req/s  p50 ${fmt(w.p50)} ms  p99 ${fmt(w.p99)} ms  (errors ${w.errors})`,
  );
  console.log(
    `  caches off:        ${fmt(c.rps, 0)} req/s  p50 ${fmt(c.p50)} ms  p99 ${fmt(c.p99)} ms  (errors ${c.errors})`,
  );
  console.log(
    `  warm / off: throughput x${fmt(w.rps / c.rps, 2)}, p99 x${fmt(w.p99 / c.p99, 2)} (Redis held ${keys} keys)`,
  );
} finally {
  for (const s of servers) await s.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
  await admin.end();
}
