// bench/revisions: what the revision history costs an edit, and that the thinning keeps it bounded.
// On SQLite and, when BENCH_MYSQL_URL is set, on MariaDB/MySQL too:
// 1. notes.update (one note per side, one call at a time, the version read sent back, ~2 KB of
//    text that changes every time) on two servers side by side on the same database, one started
//    with `--no-revisions` (edits keep no history), one as built. The sides alternate, in rounds of
//    BENCH_REVISIONS_CALLS calls, for BENCH_REVISIONS_PAIRS pairs (the order flips every pair);
//    p50/p95 per side and the median and range of the per-pair p95 ratios. Two modes: (a) rapid
//    autosaves, where only the first edit of a round keeps a revision (the note's revised_at is
//    set 11 minutes back before each round), and (b) the worst case, where every edit keeps one
//    (revised_at set back before every call). The set-backs run on both sides, outside the timed
//    span. Target: p95 with revisions <= 1.3x without.
// 2. BENCH_REVISIONS_EDITS (10,000) worst-case edits of one note, their revisions then spread
//    evenly over the past 2 years (newest now); the server is restarted and the thinning runs in
//    the sweep it starts with (the CLI has no maintenance command). Revisions and their bytes
//    before and after; target: after <= 300 + those of the last 7 days.
// BENCH_REVISIONS_SQLITE=0 skips SQLite.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import mysql from "mysql2/promise";
import { benchEntry, fmt, median, run, signIn, startNotebox } from "./lib/notebox.mjs";

const PAIRS = Number(process.env.BENCH_REVISIONS_PAIRS ?? 5);
const CALLS = Number(process.env.BENCH_REVISIONS_CALLS ?? 500);
const WARMUP = 50;
const EDITS = Number(process.env.BENCH_REVISIONS_EDITS ?? 10_000);
const TARGET = 1.3;
const MYSQL_URL =
  process.env.BENCH_MYSQL_URL === undefined
    ? null
    : process.env.BENCH_MYSQL_URL || "mysql://notebox:notebox@127.0.0.1:3306/";
const email = "reviser@example.test";
const password = "bench passphrase for revisions";
const DAY = 24 * 3600 * 1000;
const COLLAPSE_MS = 10 * 60 * 1000;
const KEEP_ALL_MS = 7 * DAY;
const PER_NOTE_MAX = 300;
const SPREAD_MS = 730 * DAY;

const words =
  "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo".split(
    " ",
  );
const base = Array.from({ length: 330 }, (_, k) => words[(k * 7) % words.length])
  .join(" ")
  .slice(0, 2000);
let edit = 0;
/** ~2 KB of text, different on every call. */
const text = () => `${base.slice(0, 1000)} edit ${++edit} ${base.slice(1000)}`;

/**
 * A bench entry built before `--no-revisions` would measure revisions against themselves. Checked
 * before every start: turbo's build cache can put an older dist/bench-entry.js back meanwhile.
 */
function checkEntry() {
  if (!readFileSync(benchEntry, "utf8").includes("--no-revisions"))
    throw new Error(`${benchEntry} predates --no-revisions: run npm run build:bench -w @notebox/server`);
}
checkEntry();

console.log("bench/revisions");
console.log(
  `  scale: ${PAIRS} pairs x ${CALLS} notes.update per side (after ${WARMUP} to warm up), one at a time, ~2 KB text; ` +
    `${EDITS.toLocaleString("en")} edits of one note for the history`,
);
if (process.env.BENCH_REVISIONS_SQLITE !== "0") await benchSqlite();
if (MYSQL_URL) await benchMysql(MYSQL_URL);
else console.log("\n  MariaDB/MySQL: skipped (set BENCH_MYSQL_URL, e.g. mysql://notebox:notebox@127.0.0.1:3306/)");

async function benchSqlite() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "notebox-bench-revisions-"));
  let db;
  try {
    console.log("\n  SQLite");
    await bench({
      dataDir,
      env: {},
      open: () => {
        const sqlite = new Database(path.join(dataDir, "notebox.db"));
        sqlite.pragma("busy_timeout = 5000");
        db = {
          date: (ms) => new Date(ms).toISOString().replace("T", " ").replace("Z", " +00:00"),
          all: async (sql, params = []) => sqlite.prepare(sql).all(...params),
          run: async (sql, params = []) => void sqlite.prepare(sql).run(...params),
          spread: async (noteId, now) => {
            const rows = sqlite
              .prepare("SELECT id FROM note_revisions WHERE note_id = ? ORDER BY revision")
              .all(noteId);
            const set = sqlite.prepare("UPDATE note_revisions SET created_at = ? WHERE id = ?");
            const step = SPREAD_MS / Math.max(1, rows.length - 1);
            sqlite.transaction(() => {
              rows.forEach((r, i) => set.run(db.date(now - (rows.length - 1 - i) * step), r.id));
            })();
          },
          tableBytes: async () => {
            try {
              const [{ bytes }] = sqlite
                .prepare(
                  "SELECT SUM(pgsize) AS bytes FROM dbstat WHERE name = 'note_revisions' OR tbl_name = 'note_revisions'",
                )
                .all();
              return bytes;
            } catch {
              return null; // no dbstat in this build of SQLite: "n/a"
            }
          },
          close: async () => sqlite.close(),
        };
        return db;
      },
    });
  } finally {
    await db?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function benchMysql(serverUrl) {
  const admin = await mysql.createConnection(serverUrl);
  const dbName = `notebox_bench_revisions_${randomBytes(4).toString("hex")}`;
  await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const databaseUrl = `${serverUrl.replace(/\/[^/]*$/, "")}/${dbName}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "notebox-bench-revisions-"));
  let conn;
  try {
    const [[{ version }]] = await admin.query("SELECT VERSION() AS version");
    console.log(`\n  ${version}`);
    await bench({
      dataDir,
      env: { DATABASE_URL: databaseUrl },
      open: async () => {
        conn = await mysql.createConnection({ uri: databaseUrl, charset: "utf8mb4", timezone: "Z", dateStrings: true });
        return {
          date: (ms) => new Date(ms).toISOString().replace("T", " ").replace("Z", ""),
          all: async (sql, params = []) => (await conn.query(sql, params))[0],
          run: async (sql, params = []) => void (await conn.query(sql, params)),
          spread: async (noteId, now) => {
            const [[{ first, last }]] = await conn.query(
              "SELECT MIN(revision) AS first, MAX(revision) AS last FROM note_revisions WHERE note_id = ?",
              [noteId],
            );
            const stepUs = (SPREAD_MS * 1000) / Math.max(1, last - first);
            await conn.query(
              "UPDATE note_revisions SET created_at = TIMESTAMPADD(MICROSECOND, -ROUND((? - revision) * ?), ?) WHERE note_id = ?",
              [last, stepUs, new Date(now).toISOString().replace("T", " ").replace("Z", ""), noteId],
            );
          },
          tableBytes: async () => {
            await conn.query("ANALYZE TABLE note_revisions");
            const [[{ bytes }]] = await conn.query(
              "SELECT DATA_LENGTH + INDEX_LENGTH AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'note_revisions'",
              [dbName],
            );
            return Number(bytes);
          },
        };
      },
    });
  } finally {
    await conn?.end();
    await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Both parts on one database: two servers on the same data, one note each. */
async function bench({ dataDir, env, open }) {
  const servers = [];
  const start = async (args, options = {}) => {
    checkEntry();
    const server = await startNotebox(
      { ...env, ...options.env },
      { entry: benchEntry, args, dataDir, onOutput: options.onOutput },
    );
    servers.push(server);
    return server;
  };
  try {
    // Started one after the other: the first one migrates the database.
    const on = await start([]);
    const off = await start(["--no-revisions"]);
    await run(["create-admin", "--email", email, "--username", "reviser", "--password-stdin"], on.env, password);
    const cookie = await signIn(on, email, password);
    const db = await open();
    const sides = {
      on: { server: on, note: await createNote(on, cookie, "With revisions") },
      off: { server: off, note: await createNote(off, cookie, "Without revisions") },
    };
    const setBack = (note) =>
      db.run("UPDATE notes SET revised_at = ? WHERE id = ?", [db.date(Date.now() - COLLAPSE_MS - 60_000), note.id]);
    const count = async (noteId, since) =>
      (
        await db.all(
          `SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS bytes FROM note_revisions WHERE note_id = ?${since ? " AND created_at >= ?" : ""}`,
          since ? [noteId, db.date(since)] : [noteId],
        )
      ).map((r) => ({ n: Number(r.n), bytes: Number(r.bytes) }))[0];

    // 1. The cost of an edit, revisions on and off.
    const ratios = {};
    for (const [mode, label] of [
      ["a", "(a) rapid autosaves, one revision per round"],
      ["b", "(b) worst case, every edit keeps a revision"],
    ]) {
      const round = async (side, calls) => {
        const times = [];
        if (mode === "a") await setBack(side.note);
        for (let i = 0; i < calls; i++) {
          if (mode === "b") await setBack(side.note);
          times.push(await update(side.server, cookie, side.note));
        }
        return times;
      };
      for (const side of Object.values(sides)) await round(side, WARMUP);
      const before = { on: await count(sides.on.note.id), off: await count(sides.off.note.id) };
      const times = { on: [], off: [] };
      const pairRatios = [];
      for (let p = 0; p < PAIRS; p++) {
        const pair = {};
        for (const name of p % 2 ? ["off", "on"] : ["on", "off"]) pair[name] = await round(sides[name], CALLS);
        times.on.push(...pair.on);
        times.off.push(...pair.off);
        pairRatios.push(percentile(pair.on, 95) / percentile(pair.off, 95));
      }
      const kept = {
        on: (await count(sides.on.note.id)).n - before.on.n,
        off: (await count(sides.off.note.id)).n - before.off.n,
      };
      const expected = mode === "a" ? PAIRS : PAIRS * CALLS;
      const r = median(pairRatios);
      ratios[mode] = r;
      console.log(`    ${label}:`);
      console.log(
        `      revisions off  p50 ${fmt(percentile(times.off, 50), 2)} ms  p95 ${fmt(percentile(times.off, 95), 2)} ms   ` +
          `on  p50 ${fmt(percentile(times.on, 50), 2)} ms  p95 ${fmt(percentile(times.on, 95), 2)} ms  (${times.on.length} calls per side)`,
      );
      console.log(
        `      revisions kept by the timed edits: ${kept.on} (expected ${expected}), without: ${kept.off}` +
          (kept.on === expected && kept.off === 0 ? "" : "  UNEXPECTED"),
      );
      console.log(
        `      p95 on/off per pair: median ${fmt(r, 2)}x (range ${fmt(Math.min(...pairRatios), 2)}-${fmt(Math.max(...pairRatios), 2)}x)` +
          `  p50 on/off ${fmt(percentile(times.on, 50) / percentile(times.off, 50), 2)}x`,
      );
    }

    // 2. A long history, thinned.
    await off.stop();
    const note = await createNote(on, cookie, "A long history");
    const started = performance.now();
    const editTimes = [];
    for (let i = 0; i < EDITS; i++) {
      await setBack(note);
      editTimes.push(await update(on, cookie, note));
    }
    const editing = (performance.now() - started) / 1000;
    await on.stop();
    // Only this note's history is thinned: the first part's notes' revisions would be thinned too.
    await db.run("DELETE FROM note_revisions WHERE note_id <> ?", [note.id]);
    const now = Date.now();
    await db.spread(note.id, now);
    const before = await count(note.id);
    const recent = await count(note.id, now - KEEP_ALL_MS);
    const tableBefore = await db.tableBytes();
    console.log(
      `    history: ${EDITS.toLocaleString("en")} worst-case edits in ${fmt(editing)} s (p50 ${fmt(percentile(editTimes, 50), 2)} ms, p95 ${fmt(percentile(editTimes, 95), 2)} ms, set-backs included in the total only)`,
    );
    console.log(
      `      before thinning: ${before.n.toLocaleString("en")} revisions, ${mb(before.bytes)} (sum of bytes), table with indexes ${mb(tableBefore)}${tableBefore === null ? " (no dbstat)" : ""}; ` +
        `spread over 2 years, ${recent.n} in the last 7 days`,
    );

    // The server thins in the sweep it runs as it starts; its debug log says when it is done.
    const log = watchLog();
    const spawned = performance.now();
    const restarted = await start([], { env: { LOG_LEVEL: "debug" }, onOutput: log.take });
    const swept = await log.swept(120_000);
    if (swept && swept.revisions === undefined) throw new Error("the server's sweep does not thin revisions");
    const sweptAfter = (performance.now() - spawned) / 1000;
    const after = await count(note.id);
    const recentAfter = await count(note.id, now - KEEP_ALL_MS);
    const tableAfter = await db.tableBytes();
    await restarted.stop();
    const sweepMs = swept && swept.listening ? swept.time - swept.listening : null;
    console.log(
      `      after thinning:  ${after.n.toLocaleString("en")} revisions (${recentAfter.n} in the last 7 days), ${mb(after.bytes)} (sum of bytes), table with indexes ${mb(tableAfter)}`,
    );
    console.log(
      swept
        ? `      thinning: the start-up sweep (thinning with the other purges) took ${sweepMs === null ? "?" : fmt(sweepMs, 0)} ms, ` +
            `removed ${swept.revisions?.toLocaleString("en") ?? "?"}; reported ${fmt(sweptAfter)} s after the spawn`
        : "      thinning: no sweep reported within 120 s",
    );
    const bound = PER_NOTE_MAX + recent.n;
    console.log(
      `    p95 ratio (a) autosaves  = ${fmt(ratios.a, 2)}x (target <= ${TARGET}) ${ratios.a <= TARGET ? "PASS" : "MISS"}`,
    );
    console.log(
      `    p95 ratio (b) worst case = ${fmt(ratios.b, 2)}x (target <= ${TARGET}) ${ratios.b <= TARGET ? "PASS" : "MISS"}`,
    );
    console.log(
      `    revisions after thinning ${after.n} (target <= ${PER_NOTE_MAX} + ${recent.n} of the last 7 days = ${bound}) ${swept && after.n <= bound ? "PASS" : "MISS"}`,
    );
  } finally {
    for (const s of servers) await s.stop();
  }
}

/** The JSON log lines of a server started with LOG_LEVEL=debug: when it listened, when it swept. */
function watchLog() {
  let buffer = "";
  let listening = null;
  let done;
  const result = new Promise((resolve) => (done = resolve));
  return {
    take(chunk) {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let entry;
        try {
          entry = JSON.parse(line);
        } catch {
          continue;
        }
        if (/is listening/.test(entry.msg)) listening = entry.time;
        if (entry.msg === "expired rows purged") done({ time: entry.time, listening, revisions: entry.revisions });
        if (entry.msg === "purge of expired rows failed") {
          console.log(`      the sweep failed: ${JSON.stringify(entry.err?.message ?? entry.err)}`);
          done(null);
        }
      }
    },
    swept: (ms) => Promise.race([result, new Promise((resolve) => setTimeout(() => resolve(null), ms).unref())]),
  };
}

async function trpc(server, cookie, procedure, input) {
  const res = await fetch(`${server.url}/api/v1/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie, origin: `http://localhost:${new URL(server.url).port}` },
    body: JSON.stringify(input),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`${procedure}: ${res.status} ${JSON.stringify(body)}`);
  return body.result.data;
}

async function createNote(server, cookie, title) {
  const { id, version } = await trpc(server, cookie, "notes.create", { title, description: text() });
  return { id, version };
}

/** One timed notes.update of the text, sending the version read; the note keeps the new version. */
async function update(server, cookie, note) {
  const input = { id: note.id, version: note.version, description: text() };
  const started = performance.now();
  const { version } = await trpc(server, cookie, "notes.update", input);
  const ms = performance.now() - started;
  note.version = version;
  return ms;
}

function percentile(values, n) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((n / 100) * sorted.length) - 1)];
}

function mb(bytes) {
  if (bytes === null || bytes === undefined) return "n/a";
  return bytes >= 2 ** 20 ? `${fmt(bytes / 2 ** 20, 2)} MB` : `${fmt(bytes / 1024, 0)} KB`;
}
