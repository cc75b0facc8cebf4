// bench/export: 100,000 notes of one user downloaded over HTTP from the built server as CSV and as
// XLSX. Targets: xlsx peak RSS growth <= 150 MB over the pre-export baseline; xlsx time <= 2x csv
// time. The time ratio comes from two servers started side by side on the same database, one per
// format, downloaded from in turns (csv xlsx, xlsx csv, ...): drift in the load on the shared
// machine hits both alike, and each format pays for its own garbage (on one server, the CSV
// export's promoted garbage is collected during the next xlsx download, and vice versa). The memory
// figures come from a fresh server per format, its RSS sampled every 50 ms over ROUNDS downloads.
// Then a slow reader (~2 MB/s) of the xlsx, whose RSS must stay flat, a reader that stops after
// 1 MB (the server must stop too), and, for comparison, the same rows written by sheetjs-style (the
// whole workbook in memory) in a separate process. BENCH_NOTES=20000 scales down; BENCH_PAIRS sets
// the number of csv/xlsx pairs timed (default 4); BENCH_SHEETJS=0 skips the sheetjs-style run (it
// needs about 1 GB). Prints figures; asserts nothing.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { inflateRawSync } from "node:zlib";
import Database from "better-sqlite3";
import { fmt, median, run, signIn as signInAs, startNotebox } from "./lib/notebox.mjs";

const TOTAL = Number(process.env.BENCH_NOTES ?? 100_000);
const ROUNDS = 3;
const PAIRS = Number(process.env.BENCH_PAIRS ?? 4);
const SLOW_BYTES_PER_SECOND = 2 * 2 ** 20;
const RSS_TARGET_MB = 150;
const RATIO_TARGET = 2;
const OWNER = { email: "exporter@example.test", username: "exporter", password: "bench passphrase for export" };
const WARMUP = { email: "warmup@example.test", username: "warmup", password: "bench passphrase for warm-up" };

const dataDir = await mkdtemp(path.join(os.tmpdir(), "notebox-bench-export-"));
const env = { DATA_DIR: dataDir };
const dbFile = path.join(dataDir, "notebox.db");
const mb = (bytes) => bytes / 2 ** 20;
/** The built server on the bench's database; its data dir outlives it. */
const startServer = () => startNotebox({}, { dataDir });
const signIn = (server, { email, password }) => signInAs(server, email, password);

try {
  console.log("bench/export");
  // The server binary migrates the database and creates the (verified) users; the notes go in
  // directly, in one transaction.
  await run(["migrate"], env);
  await run(
    ["create-admin", "--email", OWNER.email, "--username", OWNER.username, "--password-stdin"],
    env,
    OWNER.password,
  );
  await run(
    ["create-admin", "--email", WARMUP.email, "--username", WARMUP.username, "--password-stdin"],
    env,
    WARMUP.password,
  );
  const started = performance.now();
  const ownerId = await insertNotes(OWNER.email, TOTAL);
  await insertNotes(WARMUP.email, 500);
  console.log(
    `  ${TOTAL.toLocaleString("en")} notes for one user (titles of 3-8 words, texts of 300-600 characters) ` +
      `inserted in ${fmt((performance.now() - started) / 1000)} s; SQLite, loopback HTTP, ${ROUNDS} downloads per format`,
  );

  const timed = await measureInTurns();
  const csv = await measure("csv");
  const xlsx = await measure("xlsx");
  const slow = await measure("xlsx", { slow: true });
  const stalled = { csv: await measureStalled("csv"), xlsx: await measureStalled("xlsx") };

  const line = (name, r) =>
    `  ${name}: ${r.rows.toLocaleString("en")} rows  ${fmt(mb(r.bytes))} MB  ${fmt(r.seconds, 2)} s (fresh server, median of ${r.rounds}; server CPU ${fmt(r.cpuSeconds, 2)} s)  ` +
    `peak RSS growth ${fmt(r.growth)} MB over a ${fmt(r.baseline)} MB baseline`;
  console.log(line("csv ", csv));
  console.log(
    line("xlsx", xlsx) + `  (target <= ${RSS_TARGET_MB} MB) ${xlsx.growth <= RSS_TARGET_MB ? "PASS" : "MISS"}`,
  );
  const ratio = timed.xlsx.seconds / timed.csv.seconds;
  const list = (values) => values.map((v) => fmt(v, 2)).join(", ");
  console.log(
    `  a server per format, ${PAIRS} downloads of each in turns: csv ${fmt(timed.csv.seconds, 2)} s (server CPU ${fmt(timed.csv.cpuSeconds, 2)} s), ` +
      `xlsx ${fmt(timed.xlsx.seconds, 2)} s (server CPU ${fmt(timed.xlsx.cpuSeconds, 2)} s) (medians)`,
  );
  console.log(
    `  xlsx time / csv time = ${fmt(ratio, 2)} (target <= ${fmt(RATIO_TARGET, 2)}) ${ratio <= RATIO_TARGET ? "PASS" : "MISS"}  ` +
      `(each pair: ${list(timed.pairRatios)})`,
  );
  console.log(
    `  xlsx server CPU / csv server CPU = ${fmt(timed.xlsx.cpuSeconds / timed.csv.cpuSeconds, 2)} ` +
      `(less sensitive to other load on the machine than the wall-clock ratio; compression runs on a second thread)`,
  );
  console.log(
    `  slow reader (xlsx at ${fmt(mb(SLOW_BYTES_PER_SECOND))} MB/s): ${fmt(mb(slow.bytes))} MB in ${fmt(slow.seconds)} s, ` +
      `peak RSS growth ${fmt(slow.growth)} MB`,
  );
  console.log(
    `    server RSS at 25/50/75/100% of the download time: ${slow.quartiles.map((q) => fmt(q, 0)).join(" / ")} MB`,
  );
  console.log(
    `    server CPU used by then: ${slow.cpuQuartiles.map((q) => fmt(q, 2)).join(" / ")} s ` +
      `(it runs ahead by what the loopback socket buffers take in: Linux grows the receive buffer up to ${fmt(mb(rmemMax()), 0)} MB here)`,
  );
  for (const [format, r] of Object.entries(stalled)) {
    if (r.ended) {
      console.log(
        `  stalled reader (${format}): not measured, the whole export (${fmt(mb(r.read), 1)} MB) is smaller than the 1 MB it reads before stopping`,
      );
      continue;
    }
    const whole = (format === "csv" ? csv : xlsx).cpuSeconds;
    console.log(
      `  stalled reader (${format}): reads ${fmt(mb(r.read), 1)} MB then stops for 6 s: server CPU ${fmt(r.cpuFirst, 2)} s in the first 2 s, ` +
        `${fmt(r.cpuLater, 2)} s in the next 4 s, of ${fmt(whole, 2)} s for the whole export ` +
        `(it stopped after ~${fmt((100 * (r.cpuFirst + r.cpuLater)) / whole, 0)}% of the work); RSS growth ${fmt(r.growth)} MB`,
    );
  }

  if (process.env.BENCH_SHEETJS !== "0") {
    const sheetjs = await sheetjsPrototype(ownerId);
    console.log(
      `  sheetjs-style, same rows read in batches of 250 then XLSX.write({type: "buffer"}) in its own process: ` +
        `${fmt(mb(sheetjs.bytes))} MB  ${fmt(sheetjs.seconds, 2)} s (${fmt(sheetjs.seconds / timed.csv.seconds, 2)}x the csv export)  ` +
        `peak RSS growth ${fmt(sheetjs.growthMb)} MB  ${sheetjs.growthMb <= RSS_TARGET_MB && sheetjs.seconds / timed.csv.seconds <= RATIO_TARGET ? "PASS" : "MISS"}`,
    );
  } else {
    console.log("  sheetjs-style: skipped (BENCH_SHEETJS=0)");
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------

/**
 * The time ratio: a server per format, both warmed up, then PAIRS downloads of each, in turns and
 * in alternating order (csv xlsx, xlsx csv, ...), with the serving process's CPU time per download.
 */
async function measureInTurns() {
  const servers = { csv: await startServer(), xlsx: await startServer() };
  try {
    const cookies = {};
    for (const [format, server] of Object.entries(servers)) {
      cookies[format] = await signIn(server, OWNER);
      const warmCookie = await signIn(server, WARMUP);
      for (let i = 0; i < 3; i++) await download(server.url, warmCookie, format);
    }
    const runs = { csv: [], xlsx: [] };
    const pairRatios = [];
    for (let i = 0; i < PAIRS; i++) {
      const pair = {};
      for (const format of i % 2 ? ["xlsx", "csv"] : ["csv", "xlsx"]) {
        await new Promise((r) => setTimeout(r, 500));
        const cpuBefore = cpuSeconds(servers[format].pid);
        const { seconds } = await download(servers[format].url, cookies[format], format);
        runs[format].push({ seconds, cpuSeconds: cpuSeconds(servers[format].pid) - cpuBefore });
        pair[format] = seconds;
      }
      pairRatios.push(pair.xlsx / pair.csv);
    }
    const summary = (list) => ({
      seconds: median(list.map((r) => r.seconds)),
      cpuSeconds: median(list.map((r) => r.cpuSeconds)),
    });
    return { csv: summary(runs.csv), xlsx: summary(runs.xlsx), pairRatios };
  } finally {
    await Promise.all([servers.csv.stop(), servers.xlsx.stop()]);
  }
}

/** A fresh server per format, warmed up on a small export, then ROUNDS full downloads. */
async function measure(format, { slow = false } = {}) {
  const server = await startServer();
  try {
    const cookie = await signIn(server, OWNER);
    const warmCookie = await signIn(server, WARMUP);
    for (let i = 0; i < 3; i++) await download(server.url, warmCookie, format);
    await new Promise((r) => setTimeout(r, 1000));
    const baseline = median(
      await Promise.all(
        [0, 100, 200, 300, 400].map((ms) => new Promise((r) => setTimeout(() => r(rssMb(server.pid)), ms))),
      ),
    );

    const rounds = slow ? 1 : ROUNDS;
    const results = [];
    let peak = 0;
    for (let i = 0; i < rounds; i++) {
      const samples = [];
      const cpu = [];
      const cpuBefore = cpuSeconds(server.pid);
      const timer = setInterval(() => {
        samples.push(rssMb(server.pid));
        cpu.push(cpuSeconds(server.pid) - cpuBefore);
      }, 50);
      const result = await download(server.url, cookie, format, {
        bytesPerSecond: slow ? SLOW_BYTES_PER_SECOND : null,
      });
      clearInterval(timer);
      samples.push(rssMb(server.pid));
      cpu.push(cpuSeconds(server.pid) - cpuBefore);
      peak = Math.max(peak, ...samples);
      results.push({ ...result, samples, cpu });
    }
    const last = results[results.length - 1];
    const at = (series, q) => series[Math.min(series.length - 1, Math.floor(q * (series.length - 1)))];
    const quartiles = [0.25, 0.5, 0.75, 1].map((q) => at(last.samples, q));
    const cpuQuartiles = [0.25, 0.5, 0.75, 1].map((q) => at(last.cpu, q));
    return {
      rows: format === "csv" ? last.records - 1 : xlsxRowCount(last.body) - 1,
      bytes: last.bytes,
      seconds: median(results.map((r) => r.seconds)),
      cpuSeconds: median(results.map((r) => r.cpu[r.cpu.length - 1])),
      rounds,
      baseline,
      growth: peak - baseline,
      quartiles,
      cpuQuartiles,
    };
  } finally {
    await server.stop();
  }
}

/**
 * A reader that takes the first MB and then stops: once the socket buffers are full, the server
 * must stop too (no CPU, no growth) instead of producing the rest of the file into memory.
 */
async function measureStalled(format) {
  const server = await startServer();
  try {
    const cookie = await signIn(server, OWNER);
    const warmCookie = await signIn(server, WARMUP);
    for (let i = 0; i < 3; i++) await download(server.url, warmCookie, format);
    await new Promise((r) => setTimeout(r, 1000));
    const baseline = rssMb(server.pid);
    let peak = baseline;
    const timer = setInterval(() => (peak = Math.max(peak, rssMb(server.pid))), 50);
    const read = await new Promise((resolve, reject) => {
      const req = http.get(`${server.url}/api/v1/notes/export?format=${format}`, { headers: { cookie } }, (res) => {
        let bytes = 0;
        res.on("data", (chunk) => {
          bytes += chunk.length;
          if (bytes >= 2 ** 20) {
            res.pause();
            res.removeAllListeners("data");
            resolve({ bytes, req });
          }
        });
        // A small export (BENCH_NOTES scaled down) can end before the first MB.
        res.on("end", () => resolve({ bytes, req, ended: true }));
        res.on("error", reject);
      });
      req.on("error", reject);
    });
    const cpu0 = cpuSeconds(server.pid);
    await new Promise((r) => setTimeout(r, 2000));
    const cpu1 = cpuSeconds(server.pid);
    await new Promise((r) => setTimeout(r, 4000));
    const cpu2 = cpuSeconds(server.pid);
    clearInterval(timer);
    read.req.destroy();
    return {
      read: read.bytes,
      ended: read.ended === true,
      cpuFirst: cpu1 - cpu0,
      cpuLater: cpu2 - cpu1,
      growth: peak - baseline,
    };
  } finally {
    await server.stop();
  }
}

function rmemMax() {
  return Number(readFileSync("/proc/sys/net/ipv4/tcp_rmem", "utf8").trim().split(/\s+/)[2]);
}

/** utime + stime of a process, from /proc (clock ticks of 1/100 s). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMb(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;
}

/**
 * Downloads one export, optionally no faster than `bytesPerSecond`. Counts CSV records (CRLF;
 * the texts here hold only LF) and keeps an xlsx body for the row count.
 */
function download(url, cookie, format, { bytesPerSecond = null } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get(`${url}/api/v1/notes/export?format=${format}`, { headers: { cookie } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`export answered ${res.statusCode}`));
      let bytes = 0;
      let records = 0;
      let lastByte = 0;
      const chunks = [];
      res.on("data", (chunk) => {
        bytes += chunk.length;
        if (format === "csv") {
          if (lastByte === 13 && chunk[0] === 10) records++;
          for (let i = chunk.indexOf(13); i !== -1 && i + 1 < chunk.length; i = chunk.indexOf(13, i + 1))
            if (chunk[i + 1] === 10) records++;
          lastByte = chunk[chunk.length - 1];
        } else {
          chunks.push(chunk);
        }
        if (bytesPerSecond) {
          const ahead = bytes / bytesPerSecond - (performance.now() - started) / 1000;
          if (ahead > 0) {
            res.pause();
            setTimeout(() => res.resume(), ahead * 1000);
          }
        }
      });
      res.on("end", () =>
        resolve({ bytes, records, body: Buffer.concat(chunks), seconds: (performance.now() - started) / 1000 }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/** Rows in the first worksheet: inflates xl/worksheets/sheet1.xml from the zip's central directory. */
function xlsxRowCount(zip) {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  let at = zip.readUInt32LE(eocd + 16);
  for (let n = zip.readUInt16LE(eocd + 10); n > 0; n--) {
    const nameLength = zip.readUInt16LE(at + 28);
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    if (name.replace(/^\//, "") === "xl/worksheets/sheet1.xml") {
      const compressed = zip.readUInt32LE(at + 20);
      const local = zip.readUInt32LE(at + 42);
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const xml = inflateRawSync(zip.subarray(start, start + compressed)).toString("utf8");
      return xml.split("<row ").length - 1;
    }
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  throw new Error("no sheet1.xml in the xlsx");
}

/** The sheetjs-style prototype, in its own process so its memory is its own. */
function sheetjsPrototype(ownerId) {
  const script = fileURLToPath(new URL("./lib/export-sheetjs.mjs", import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, dbFile, ownerId], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("close", (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`sheetjs prototype exited ${code}`)),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Data

async function insertNotes(email, count) {
  const db = new Database(dbFile);
  try {
    db.pragma("busy_timeout = 10000");
    const { id: ownerId } = db.prepare("SELECT id FROM users WHERE email = ?").get(email);
    const text = corpus(count + 7);
    const insert = db.prepare(
      "INSERT INTO notes (id, owner_id, title, description, version, created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, 1, ?, ?, NULL)",
    );
    const now = Date.now();
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const created = now - Math.floor(text.random() * 2 * 365 * 86_400_000);
        const updated = Math.min(now, created + Math.floor(text.random() * 30 * 86_400_000));
        insert.run(randomUUID(), ownerId, text.title(), text.body(), sqliteDate(created), sqliteDate(updated));
      }
    }).immediate();
    return ownerId;
  } finally {
    db.close();
  }
}

/** The format Sequelize stores DATE(3) in on SQLite. */
function sqliteDate(ms) {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", " +00:00");
}

/** Titles and Markdown-ish texts from a fixed vocabulary, with accents and the odd formula-like title. */
function corpus(seed) {
  let state = seed >>> 0 || 1;
  const random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const words = (
    "the of and to in is you that it was for on are as with they at be this have from or one had by word but not what all were " +
    "we when your can said there use each which she do how their if will up other about out many then them these so some her would " +
    "make like him into time has look two more write go see number way could people my than first water been call who its now find " +
    "long down day did get come made may part meeting budget project garden recipe travel invoice report draft review plan notes " +
    "idea list weekly monthly quarterly café crème brûlée naïve façade résumé jalapeño über straße smörgåsbord piñata coöperate déjà vu"
  ).split(" ");
  const pick = () => words[Math.floor(random() * words.length)];
  const sentence = () => {
    const n = 6 + Math.floor(random() * 11);
    const parts = Array.from({ length: n }, pick);
    if (random() < 0.3) parts[Math.floor(n / 2)] += ",";
    if (random() < 0.1) parts[1] = `"${parts[1]}"`;
    const text = parts.join(" ");
    return `${text[0].toUpperCase()}${text.slice(1)}.`;
  };
  return {
    random,
    title: () => {
      const title = Array.from({ length: 3 + Math.floor(random() * 6) }, pick).join(" ");
      const r = random();
      return r < 0.005 ? `=${title}` : r < 0.01 ? `- ${title}` : `${title[0].toUpperCase()}${title.slice(1)}`;
    },
    body: () => {
      const target = 300 + Math.floor(random() * 301);
      let text = "";
      while (text.length < target) {
        const r = random();
        text +=
          r < 0.1
            ? `\n\n- ${sentence()}`
            : r < 0.15
              ? `\n\n## ${pick()} ${pick()}\n\n`
              : `${text ? " " : ""}${sentence()}`;
      }
      return text.slice(0, target).trimEnd();
    },
  };
}
