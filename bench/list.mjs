// bench/list: what the stack costs on the hottest requests, on SQLite and, when BENCH_MYSQL_URL is
// set, on MariaDB/MySQL too. Every comparison runs its two sides one after the other in
// BENCH_PAIRS (5) pairs of BENCH_SECONDS (4) s runs at 16 connections, the order flipping every
// pair, and reports the median of the per-pair throughput ratios with their range: one sample of
// each side flipped between PASS and MISS with the load of the (shared) machine.
// 1. notes.list (20 notes, signed in) through tRPC vs a bare Hono route in the same process running
//    the same session check and the same query (dist/bench-entry.js), read caches off
//    (`--no-cache`) so both run the query on every request. Target: tRPC >= 70% of the bare route.
//    On SQLite the pair is measured again with the caches on, for information.
// 2. Notebox (tRPC, caches off) vs the raw-driver baseline that dist/bench-entry.js serves from the
//    same process: node:http and hand-written SQL through better-sqlite3 or mysql2, no framework
//    (see the comment there). notes.list, notes.get (one note by id) and notes.create (one
//    INSERT), throughput at the same concurrency. Targets: Notebox >= 50% of the baseline for each.
// The answers of the two sides are checked equal before anything is timed.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import mysql from "mysql2/promise";
import {
  alternate,
  benchEntry,
  cannon,
  fmt,
  percentSpread,
  run,
  seedNotes,
  signIn,
  spread,
  startNotebox,
  summarizeRuns as summary,
} from "./lib/notebox.mjs";

const PAIRS = Math.max(3, Number(process.env.BENCH_PAIRS ?? 5));
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const WARMUP_SECONDS = 2;
const noteCount = Number(process.env.BENCH_LIST_NOTES ?? 1000);
const PINNED = 2;
const connections = 16;
const MYSQL_URL =
  process.env.BENCH_MYSQL_URL === undefined
    ? null
    : process.env.BENCH_MYSQL_URL || "mysql://notebox:notebox@127.0.0.1:3306/";
const email = "lister@example.test";
const password = "bench passphrase for lists";
const TRPC_TARGET = 0.7;
const RAW_TARGET = 0.5;
/** The PASS/MISS lines, printed together at the end. */
const verdicts = [];

console.log("bench/list");
console.log(
  `  user with ${noteCount} notes (${PINNED} pinned), 20 per page; ${connections} connections; ` +
    `each comparison: ${PAIRS} alternated pairs of ${seconds} s runs after ${WARMUP_SECONDS} s of warm-up per side`,
);
if (process.env.BENCH_LIST_SQLITE !== "0") await benchSqlite();
if (MYSQL_URL) await benchMysql(MYSQL_URL);
else console.log("\n  MariaDB/MySQL: skipped (set BENCH_MYSQL_URL, e.g. mysql://notebox:notebox@127.0.0.1:3306/)");
console.log("\n  targets (median of the per-pair ratios, range in brackets)");
for (const line of verdicts) console.log(`    ${line}`);

async function benchSqlite() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "notebox-bench-list-"));
  let sqlite;
  try {
    console.log("\n  SQLite");
    await bench({
      name: "SQLite",
      dataDir,
      env: {},
      cachesOn: true,
      open: async () => {
        sqlite = new Database(path.join(dataDir, "notebox.db"), { readonly: true });
        return { rows: async (ids) => sqlite.prepare(`SELECT * FROM notes WHERE id IN (?, ?)`).all(...ids) };
      },
    });
  } finally {
    sqlite?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function benchMysql(serverUrl) {
  const admin = await mysql.createConnection(serverUrl);
  const dbName = `notebox_bench_list_${randomBytes(4).toString("hex")}`;
  await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const databaseUrl = `${serverUrl.replace(/\/[^/]*$/, "")}/${dbName}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "notebox-bench-list-"));
  let conn;
  try {
    const [[{ version }]] = await admin.query("SELECT VERSION() AS version");
    console.log(`\n  MariaDB/MySQL ${version}`);
    await bench({
      name: "MariaDB",
      dataDir,
      env: { DATABASE_URL: databaseUrl },
      cachesOn: false,
      open: async () => {
        conn = await mysql.createConnection({ uri: databaseUrl, charset: "utf8mb4", timezone: "Z" });
        return { rows: async (ids) => (await conn.query("SELECT * FROM notes WHERE id IN (?, ?)", ids))[0] };
      },
    });
  } finally {
    await conn?.end();
    await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function bench({ name, dataDir, env, cachesOn, open }) {
  const origin = (server) => `http://localhost:${new URL(server.url).port}`;
  const listInput = encodeURIComponent(JSON.stringify({ limit: 20 }));
  const server = await startNotebox(env, { entry: benchEntry, args: ["--no-cache"], dataDir });
  try {
    await run(["create-admin", "--email", email, "--username", "lister", "--password-stdin"], server.env, password);
    const cookie = await signIn(server, email, password);
    await seedNotes(server, cookie, noteCount);
    // A few pinned notes, so that the page is the pinned query's rows and then the others'.
    const first = await getJson(`${server.url}/api/v1/trpc/notes.list?input=${listInput}`, { cookie });
    for (const item of first.result.data.items.slice(5, 5 + PINNED)) {
      const res = await fetch(`${server.url}/api/v1/trpc/notes.update`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie, origin: origin(server) },
        body: JSON.stringify({ id: item.id, pinned: true }),
      });
      if (!res.ok) throw new Error(`notes.update (pin) ${res.status}`);
    }
    const rawUrl = `http://127.0.0.1:${(await getJson(`${server.url}/bench/raw-port`, {})).port}`;

    // 1. tRPC vs bare Hono.
    const trpcList = { url: `${server.url}/api/v1/trpc/notes.list?input=${listInput}`, headers: { cookie } };
    const bareList = { url: `${server.url}/bench/bare-notes-list`, headers: { cookie } };
    const rawList = { url: `${rawUrl}/notes-list`, headers: { cookie } };
    const [viaTrpc, viaBare, viaRaw] = await Promise.all(
      [trpcList, bareList, rawList].map((t) => getJson(t.url, t.headers)),
    );
    const page = viaTrpc.result.data;
    if (page.items.filter((n) => n.pinned).length !== PINNED || page.items.length !== 20 || !page.nextCursor)
      throw new Error("notes.list did not answer the page expected");
    if (JSON.stringify(page) !== JSON.stringify(viaBare))
      throw new Error("tRPC and the bare route answer different pages");
    if (JSON.stringify(page) !== JSON.stringify(viaRaw))
      throw new Error(
        `tRPC and the raw driver answer different pages:\n${JSON.stringify(page).slice(0, 600)}\n${JSON.stringify(viaRaw).slice(0, 600)}`,
      );

    const offTrpc = await compare(`notes.list, caches off`, ["tRPC", trpcList], ["bare Hono", bareList]);
    verdict(`${name} notes.list caches off: tRPC / bare Hono`, offTrpc, TRPC_TARGET, name !== "SQLite");

    // 2. Notebox vs the raw driver.
    const list = await compare("notes.list, caches off", ["Notebox", trpcList], ["raw driver", rawList]);
    verdict(`${name} notes.list caches off: Notebox / raw driver`, list, RAW_TARGET);

    const id = page.items[PINNED + 3].id;
    const trpcGet = {
      url: `${server.url}/api/v1/trpc/notes.get?input=${encodeURIComponent(JSON.stringify({ id }))}`,
      headers: { cookie },
    };
    const rawGet = { url: `${rawUrl}/notes-get?id=${encodeURIComponent(id)}`, headers: { cookie } };
    const [gotTrpc, gotRaw] = await Promise.all([trpcGet, rawGet].map((t) => getJson(t.url, t.headers)));
    if (!gotTrpc.result.data.description || JSON.stringify(gotTrpc.result.data) !== JSON.stringify(gotRaw))
      throw new Error("tRPC and the raw driver answer different notes");
    const get = await compare("notes.get, caches off", ["Notebox", trpcGet], ["raw driver", rawGet]);
    verdict(`${name} notes.get caches off: Notebox / raw driver`, get, RAW_TARGET);

    const body = JSON.stringify({
      title: "A note written under load",
      description: "Written again and again, **in Markdown**, with a task:\n\n- [ ] count the rows\n",
    });
    const post = {
      method: "POST",
      body,
      headers: { cookie, origin: origin(server), "content-type": "application/json" },
    };
    const trpcCreate = { url: `${server.url}/api/v1/trpc/notes.create`, ...post };
    const rawCreate = { url: `${rawUrl}/notes-create`, ...post };
    // The same note written by each side: the same answer and the same row but for id and times.
    const [madeTrpc, madeRaw] = await Promise.all(
      [trpcCreate, rawCreate].map((t) => getJson(t.url, t.headers, { method: "POST", body })),
    );
    const db = await open();
    const rows = await db.rows([madeTrpc.result.data.id, madeRaw.id]);
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    const strip = (o, ...keys) =>
      JSON.stringify(Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k))));
    if (strip(madeTrpc.result.data, "id", "createdAt", "updatedAt") !== strip(madeRaw, "id", "createdAt", "updatedAt"))
      throw new Error("tRPC and the raw driver answer notes.create differently");
    const [rowTrpc, rowRaw] = [byId[madeTrpc.result.data.id], byId[madeRaw.id]];
    if (
      !rowTrpc ||
      !rowRaw ||
      strip(rowTrpc, "id", "created_at", "updated_at") !== strip(rowRaw, "id", "created_at", "updated_at")
    )
      throw new Error(
        `tRPC and the raw driver write different rows:\n${JSON.stringify(rowTrpc)}\n${JSON.stringify(rowRaw)}`,
      );
    const create = await compare("notes.create, caches off", ["Notebox", trpcCreate], ["raw driver", rawCreate]);
    verdict(`${name} notes.create caches off: Notebox / raw driver`, create, RAW_TARGET);
  } finally {
    await server.stop();
  }

  if (!cachesOn) return;
  const cached = await startNotebox(env, { entry: benchEntry, dataDir });
  try {
    const cookie = await signIn(cached, email, password);
    const trpcList = { url: `${cached.url}/api/v1/trpc/notes.list?input=${listInput}`, headers: { cookie } };
    const bareList = { url: `${cached.url}/bench/bare-notes-list`, headers: { cookie } };
    const [viaTrpc, viaBare] = await Promise.all([trpcList, bareList].map((t) => getJson(t.url, t.headers)));
    if (JSON.stringify(viaTrpc.result.data) !== JSON.stringify(viaBare))
      throw new Error("tRPC and the bare route answer different pages");
    const on = await compare("notes.list, caches on ", ["tRPC", trpcList], ["bare Hono", bareList]);
    verdict(`${name} notes.list caches on:  tRPC / bare Hono`, on, null);
  } finally {
    await cached.stop();
  }
}

/** Warms both sides up, then times them in alternated pairs; prints each side and the ratio. */
async function compare(label, [nameA, a], [nameB, b]) {
  for (const target of [a, b]) await cannon({ ...target, connections, duration: WARMUP_SECONDS });
  const timed = (target) => () => cannon({ ...target, connections, duration: seconds });
  const out = await alternate(PAIRS, timed(a), timed(b), (x, y) => x.requests.average / y.requests.average);
  const sa = summary(out.a);
  const sb = summary(out.b);
  const side = (n, s) => `${n} ${fmt(s.rps, 0)} req/s (p50 ${fmt(s.p50)} ms, p99 ${fmt(s.p99)} ms, errors ${s.errors})`;
  console.log(`    ${label}  ${side(nameA, sa)}  ${side(nameB, sb)}`);
  console.log(`      ${nameA} / ${nameB} = ${percentSpread(out.ratios)}`);
  return { ratios: out.ratios, errors: sa.errors + sb.errors };
}

/** One target line; `target` null: information only; `info`: printed against the target, not judged. */
function verdict(label, { ratios, errors }, target, info = false) {
  const ok = spread(ratios).median >= target && errors === 0;
  const tail =
    target === null
      ? "(information)"
      : `target >= ${fmt(target * 100, 0)}% ${info ? "(information here)" : ok ? "PASS" : "MISS"}`;
  verdicts.push(`${label} = ${percentSpread(ratios)} ${tail}${errors ? ` (${errors} errors)` : ""}`);
}

async function getJson(url, headers, init = {}) {
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}
