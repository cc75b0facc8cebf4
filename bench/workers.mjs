// bench/workers: one process vs a primary and two workers (WORKERS=2), read caches off, on SQLite
// (both on the same database file) and, when BENCH_MYSQL_URL is set, on MariaDB/MySQL (the same
// database). Three requests: notes.list (20 per page, signed in: the session check and the list
// query on every request), notes.get (one note by id) and notes.create (one insert; on SQLite the
// two workers' writers take turns at the file's write lock). Both servers run side by side on the
// same notes; the load alternates between them, pair by pair. Target (the issue's, for notes.list
// on MariaDB/MySQL): WORKERS=2 >= 1.7x WORKERS=1; the others are printed for information.
//
// The single process is dist/bench-entry.js --no-cache. The cluster's primary is `notebox serve`
// (dist/cli.js), whose workers run that same bench entry (benchEntryCluster in lib/notebox.mjs).
//
// The load generator (autocannon, in this process) and MariaDB run on the same machine as the
// servers, so with few cores they take CPU the workers would use: the figures below say how much.
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import mysql from "mysql2/promise";
import {
  benchEntry,
  benchEntryCluster,
  cannon,
  fmt,
  median,
  run,
  seedNotes,
  signIn,
  startNotebox,
} from "./lib/notebox.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const pairs = Math.max(3, Number(process.env.BENCH_WORKERS_PAIRS ?? 3));
const noteCount = Number(process.env.BENCH_LIST_NOTES ?? 1000);
const MYSQL_URL =
  process.env.BENCH_MYSQL_URL === undefined
    ? null
    : process.env.BENCH_MYSQL_URL || "mysql://notebox:notebox@127.0.0.1:3306/";
const PROCEDURES = (process.env.BENCH_WORKERS_PROCEDURES ?? "list,get,create").split(",");
const connections = 16;
const target = 1.7;
const email = "workers@example.test";
const password = "bench passphrase for the workers";

const ticksPerSecond = 100; // USER_HZ on Linux
/** CPU seconds used so far by a process (user + system), from /proc; null where there is none. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return null;
  }
}
/**
 * CPU seconds the whole machine has spent busy, from /proc/stat: user, nice, system, irq, softirq
 * and steal (the hypervisor's other guests), but not idle or iowait, nor guest time (in user already).
 */
function machineBusySeconds() {
  try {
    const [, ...fields] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
    const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
    return (user + nice + system + irq + softirq + steal) / ticksPerSecond;
  } catch {
    return null;
  }
}
/** The children of `pid` (the cluster's workers), from /proc. */
function childrenOf(pid) {
  const file = `/proc/${pid}/task/${pid}/children`;
  return existsSync(file) ? readFileSync(file, "utf8").trim().split(/\s+/).filter(Boolean).map(Number) : [];
}
/** The MariaDB/MySQL server's pid when it runs on this machine (its CPU is part of the story). */
function findDatabasePid() {
  if (!existsSync("/proc")) return null;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (/^(mariadbd|mysqld)$/.test(readFileSync(`/proc/${entry}/comm`, "utf8").trim())) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

const verdicts = [];
console.log("bench/workers");
console.log(
  `  user with ${noteCount} notes, read caches off; ${connections} connections, ${pairs} pairs x ${seconds} s per side, alternating; ${os.availableParallelism()} cores shared with the load generator (and the database server)`,
);
if (process.env.BENCH_WORKERS_SQLITE !== "0") {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "notebox-bench-workers-"));
  try {
    await bench({ name: "SQLite", env: {}, dataDir, databasePid: null });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
if (MYSQL_URL) {
  const admin = await mysql.createConnection(MYSQL_URL);
  const dbName = `notebox_bench_workers_${randomBytes(4).toString("hex")}`;
  await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "notebox-bench-workers-"));
  try {
    const databaseUrl = `${MYSQL_URL.replace(/\/[^/]*$/, "")}/${dbName}`;
    await bench({ name: "MariaDB/MySQL", env: { DATABASE_URL: databaseUrl }, dataDir, databasePid: findDatabasePid() });
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  }
} else console.log("\n  MariaDB/MySQL: skipped (set BENCH_MYSQL_URL, e.g. mysql://notebox:notebox@127.0.0.1:3306/)");
console.log("\n  WORKERS=2 / WORKERS=1, median of the per-pair ratios (range in brackets)");
for (const line of verdicts) console.log(`    ${line}`);

/** Both servers on one database (`env`, one DATA_DIR: on SQLite one file), each procedure in turn. */
async function bench({ name, env, dataDir, databasePid }) {
  console.log(`\n  ${name}`);
  const servers = [];
  try {
    const shared = { ...env, JWT_SECRET: "bench-secret-bench-secret-bench-secret-0123" };
    const start = async (extra, options) => {
      const server = await startNotebox({ ...shared, ...extra }, { ...options, dataDir });
      servers.push(server);
      return server;
    };
    const one = await start({ WORKERS: "1" }, { entry: benchEntry, args: ["--no-cache"] });
    const two = await start({ WORKERS: "2" }, benchEntryCluster());
    await run(["create-admin", "--email", email, "--username", "workers", "--password-stdin"], one.env, password);
    const cookie = await signIn(one, email, password);
    await seedNotes(one, cookie, noteCount);
    for (let i = 0; i < 100 && childrenOf(two.pid).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    const workers = childrenOf(two.pid);
    if (workers.length !== 2) throw new Error(`expected 2 workers under the primary, found ${workers.length}`);
    const listUrl = (server) =>
      `${server.url}/api/v1/trpc/notes.list?input=${encodeURIComponent(JSON.stringify({ limit: 20 }))}`;
    const page = await (await fetch(listUrl(one), { headers: { cookie } })).json();
    const noteId = page.result.data.items[3].id;
    const loads = {
      list: (server) => ({ url: listUrl(server), headers: { cookie } }),
      get: (server) => ({
        url: `${server.url}/api/v1/trpc/notes.get?input=${encodeURIComponent(JSON.stringify({ id: noteId }))}`,
        headers: { cookie },
      }),
      create: (server) => ({
        url: `${server.url}/api/v1/trpc/notes.create`,
        method: "POST",
        headers: { cookie, "content-type": "application/json", origin: `http://localhost:${new URL(server.url).port}` },
        body: JSON.stringify({
          title: "Written by the bench",
          description: "A note from bench/workers, in plain words.",
        }),
      }),
    };
    for (const procedure of PROCEDURES) {
      if (!loads[procedure]) throw new Error(`BENCH_WORKERS_PROCEDURES: no such request ${procedure}`);
      const load = loads[procedure];
      if (procedure !== "create") {
        const [a, b] = await Promise.all(
          [one, two].map((server) => fetch(load(server).url, { headers: { cookie } }).then((r) => r.json())),
        );
        if (JSON.stringify(a.result?.data) !== JSON.stringify(b.result?.data))
          throw new Error(`the two sides answer notes.${procedure} differently`);
      }
      await compare({
        label: `${name} notes.${procedure}`,
        one: { pids: [one.pid], load: load(one) },
        two: { pids: [two.pid, ...workers], load: load(two) },
        databasePid,
        targeted: procedure === "list" && name !== "SQLite",
      });
    }
  } finally {
    for (const server of servers) await server.stop();
  }
}

/** The alternated pairs of one request on both sides, with the CPU each process used. */
async function compare({ label, one, two, databasePid, targeted }) {
  const sides = { one: { ...one, runs: [] }, two: { ...two, runs: [] } };
  /** What each process used while `work` ran: CPU seconds per second of wall time (cores). */
  const measured = async (pids, work) => {
    const before = pids.map(cpuSeconds);
    const busyBefore = machineBusySeconds();
    const self = process.cpuUsage();
    const started = performance.now();
    const result = await work();
    const wall = (performance.now() - started) / 1000;
    const used = process.cpuUsage(self);
    const cores = pids.map((pid, i) => (before[i] === null ? null : (cpuSeconds(pid) - before[i]) / wall));
    const busy = busyBefore === null ? null : (machineBusySeconds() - busyBefore) / wall;
    return { result, cores, generator: (used.user + used.system) / 1e6 / wall, busy };
  };
  const watch = (side) => [...side.pids, ...(databasePid ? [databasePid] : [])];

  for (const side of [sides.one, sides.two]) await cannon({ ...side.load, connections, duration: 2 }); // warm-up
  const ratios = [];
  for (let p = 0; p < pairs; p++) {
    // Alternate which side goes first, so a drift in the machine's state favours neither.
    const order = p % 2 === 0 ? [sides.one, sides.two] : [sides.two, sides.one];
    for (const side of order) {
      const { result, cores, generator, busy } = await measured(watch(side), () =>
        cannon({ ...side.load, connections, duration: seconds }),
      );
      const accounted = cores.reduce((sum, c) => sum + (c ?? 0), generator);
      side.runs.push({
        rps: result.requests.average,
        p99: result.latency.p99,
        errors: result.errors + result.non2xx,
        cores,
        generator,
        others: busy === null ? null : Math.max(0, busy - accounted),
      });
    }
    ratios.push(sides.two.runs[p].rps / sides.one.runs[p].rps);
  }

  const mean = (list) => list.reduce((s, v) => s + v, 0) / list.length;
  const cpu = (side, index) => {
    const values = side.runs.map((r) => r.cores[index]).filter((v) => v !== null && v !== undefined);
    return values.length ? fmt(mean(values), 2) : "?";
  };
  const ratio = median(ratios);
  console.log(`  ${label}`);
  for (const [name, side] of [
    ["WORKERS=1", sides.one],
    ["WORKERS=2", sides.two],
  ]) {
    const errors = side.runs.reduce((s, r) => s + r.errors, 0);
    console.log(
      `    ${name}: ${side.runs.map((r) => fmt(r.rps, 0)).join(", ")} req/s (mean ${fmt(mean(side.runs.map((r) => r.rps)), 0)}, p99 ${side.runs.map((r) => r.p99).join("/")} ms, errors ${errors})`,
    );
  }
  const serverCores = (side, count) =>
    Array.from({ length: count }, (_, i) => cpu(side, i)).join(side === sides.one ? "" : " + ");
  console.log(
    `    CPU in cores while loaded: WORKERS=1 server ${serverCores(sides.one, 1)}; WORKERS=2 primary + workers ${serverCores(sides.two, 3)}` +
      (databasePid ? `; database ${cpu(sides.one, 1)} / ${cpu(sides.two, 3)}` : "") +
      `; load generator ${fmt(mean(sides.one.runs.map((r) => r.generator)), 2)} / ${fmt(mean(sides.two.runs.map((r) => r.generator)), 2)}` +
      (sides.one.runs[0].others === null
        ? ""
        : `; everything else on the machine ${fmt(mean(sides.one.runs.map((r) => r.others)), 2)} / ${fmt(mean(sides.two.runs.map((r) => r.others)), 2)}`),
  );
  // What the machine allows at all: the CPU one request cost on the WORKERS=1 side (server,
  // database, load generator), against the cores nothing else was using.
  const oneRuns = sides.one.runs;
  let ceilingNote = "";
  if (oneRuns.every((r) => r.cores.every((c) => c !== null) && r.others !== null)) {
    const perRequest = (pick) => mean(oneRuns.map((r) => pick(r) / r.rps)) * 1000;
    const server = perRequest((r) => r.cores[0]);
    const database = databasePid ? perRequest((r) => r.cores[1]) : 0;
    const generator = perRequest((r) => r.generator);
    const free = os.availableParallelism() - mean([...oneRuns, ...sides.two.runs].map((r) => r.others));
    const ceiling = (free / (server + database + generator)) * 1000;
    const times = ceiling / mean(oneRuns.map((r) => r.rps));
    ceilingNote = `; this machine allows at most x${fmt(times, 2)}`;
    console.log(
      `    ceiling here: a request cost ${fmt(server + database + generator, 2)} ms of CPU with WORKERS=1 (server ${fmt(server, 2)}, database ${fmt(database, 2)}, load generator ${fmt(generator, 2)}); ${fmt(free, 2)} free cores allow at most ${fmt(ceiling, 0)} req/s, x${fmt(times, 2)} of WORKERS=1`,
    );
  }
  const spread = `x${fmt(ratio, 2)} (x${fmt(Math.min(...ratios), 2)}-x${fmt(Math.max(...ratios), 2)})`;
  console.log(`    WORKERS=2 / WORKERS=1 per pair: ${ratios.map((r) => `x${fmt(r, 2)}`).join(", ")}; median ${spread}`);
  verdicts.push(
    `${label}: ${spread}` +
      (targeted ? ` target >= ${target}x ${ratio >= target ? "PASS" : "MISS"}` : " (information)") +
      ceilingNote,
  );
}
