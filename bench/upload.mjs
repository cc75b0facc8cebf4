// bench/upload: one large file (2 GiB by default) uploaded to Notebox as a streamed multipart
// body while the server's RSS is sampled every 50 ms: peak RSS growth (target <= 64 MB, the
// largest of the uploads) and throughput; and the same upload to a bare node:http + busboy -> file
// + fsync baseline in another process on the same disk. Notebox and the baseline run side by side
// and alternate in BENCH_PAIRS (3) pairs, the order flipping every pair (target: the median of the
// per-pair throughput ratios >= 80%, printed with their range). Then, once each for information,
// the baseline that also hashes and the one that does not fsync. BENCH_UPLOAD_MB=512 scales the
// file down.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { alternate, fmt, freePort, median, run, signIn, spread, startNotebox } from "./lib/notebox.mjs";
import { mb, mbps, MiB, sampleRss, sizeFromEnv, uploadFile } from "./lib/transfer.mjs";

const size = sizeFromEnv("BENCH_UPLOAD_MB");
const limit = String(Math.max(3 * 1024 * MiB, size + 64 * MiB));
const PAIRS = Math.max(3, Number(process.env.BENCH_PAIRS ?? 3));

/** Uploads `size` bytes to `url` while sampling `pid`'s RSS. */
async function measured(pid, url, headers) {
  const rss = sampleRss(pid);
  const result = await uploadFile(url, { size, headers });
  const memory = rss.stop();
  if (result.status !== 201) throw new Error(`upload answered ${result.status}: ${result.body.slice(0, 300)}`);
  return { ...result, memory };
}

// --- Notebox and the baseline (node:http + busboy -> file, in its own process), side by side ---
const server = await startNotebox({ MAX_UPLOAD_BYTES: limit, USER_QUOTA_BYTES: limit });
const dir = await mkdtemp(path.join(os.tmpdir(), "notebox-bench-baseline-"));
const port = await freePort();
const baselineScript = fileURLToPath(new URL("./lib/upload-baseline.mjs", import.meta.url));
const baseline = spawn(process.execPath, [baselineScript, String(port), dir], { stdio: ["ignore", "pipe", "inherit"] });
let pairs;
let hashed;
let cached;
try {
  await new Promise((resolve, reject) => {
    baseline.stdout.once("data", resolve);
    baseline.once("exit", (code) => reject(new Error(`baseline exited ${code}`)));
  });
  const email = "uploader@example.test";
  const password = "bench passphrase for uploads";
  await run(["create-admin", "--email", email, "--username", "uploader", "--password-stdin"], server.env, password);
  const cookie = await signIn(server, email, password);
  const headers = { cookie, origin: `http://localhost:${new URL(server.url).port}` };
  /** To the trash and out of it: the next upload finds the disk and the quota as they were. */
  const remove = async (body) => {
    const [item] = JSON.parse(body).items;
    for (const procedure of ["files.delete", "files.trash.purge"]) {
      const res = await fetch(`${server.url}/api/v1/trpc/${procedure}`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ id: item.id }),
      });
      if (!res.ok) throw new Error(`${procedure} ${res.status}: ${await res.text()}`);
    }
    return item;
  };
  const url = `http://127.0.0.1:${port}/upload`;
  const clean = async (body) => Promise.all(JSON.parse(body).files.map((f) => rm(f, { force: true })));

  // Warm-up: each upload path's code and buffers, once.
  const warm = await uploadFile(`${server.url}/api/v1/files`, { size: 16 * MiB, headers });
  if (warm.status !== 201) throw new Error(`warm-up upload answered ${warm.status}: ${warm.body}`);
  await remove(warm.body);
  await clean((await uploadFile(`${url}?fsync=1`, { size: 16 * MiB })).body);

  const uploadNotebox = async () => {
    const result = await measured(server.pid, `${server.url}/api/v1/files`, headers);
    const item = await remove(result.body);
    if (item.size !== size) throw new Error(`stored ${item.size} bytes, sent ${size}`);
    return result;
  };
  const uploadBaseline = (query) => async () => {
    const result = await measured(baseline.pid, `${url}?${query}`, {});
    await clean(result.body);
    return result;
  };
  pairs = await alternate(PAIRS, uploadNotebox, uploadBaseline("fsync=1"), (n, b) => rate(n) / rate(b));
  hashed = await uploadBaseline("fsync=1&hash=1")();
  cached = await uploadBaseline("")();
} finally {
  baseline.kill("SIGTERM");
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}

// --- Report ---------------------------------------------------------------------------------
function rate(r) {
  return size / MiB / r.seconds;
}
const notebox = pairs.a;
const durable = pairs.b;
const ratio = spread(pairs.ratios);
const growths = notebox.map((r) => r.memory.growth / 1e6);
const growthMb = Math.max(...growths);
const noteboxRate = median(notebox.map(rate));
const range = ({ median: m, min, max }) => `${fmt(m, 2)} (pairs: ${fmt(min, 2)}–${fmt(max, 2)})`;
const rates = (runs) => {
  const s = spread(runs.map(rate));
  return `${fmt(s.median, 0)} MiB/s (${fmt(s.min, 0)}–${fmt(s.max, 0)})`;
};
console.log("bench/upload");
console.log(
  `  file: ${mb(size)} MiB${size === 2048 * MiB ? "" : " (scaled down with BENCH_UPLOAD_MB; the target is set for 2048)"}, one multipart part, loopback, local disk storage`,
);
console.log(`  ${PAIRS} alternated pairs Notebox / baseline busboy -> file + fsync; medians (ranges)`);
console.log(
  `  Notebox:                          ${rates(notebox)}  server RSS ${mb(notebox[0].memory.start)} before the first -> peak ${mb(Math.max(...notebox.map((r) => r.memory.peak)))} MiB`,
);
console.log(
  `  peak RSS growth: ${fmt(growthMb)} MB, the largest of ${growths.length} uploads (${growths.map((g) => fmt(g)).join(", ")}) (target <= 64 MB) ${growthMb <= 64 ? "PASS" : "MISS"}`,
);
console.log(
  `  baseline busboy -> file + fsync:  ${rates(durable)}  RSS growth ${fmt(Math.max(...durable.map((r) => r.memory.growth)) / 1e6)} MB`,
);
console.log(
  `  baseline + sha256 + fsync (info, one run): ${mbps(size, hashed.seconds)} MiB/s (${fmt(hashed.seconds)} s)  RSS growth ${fmt(hashed.memory.growth / 1e6)} MB`,
);
console.log(
  `  baseline without fsync (info, one run):    ${mbps(size, cached.seconds)} MiB/s (${fmt(cached.seconds)} s)  RSS growth ${fmt(cached.memory.growth / 1e6)} MB`,
);
console.log(
  `  Notebox / baseline (both fsync) = ${range(ratio)} (target >= 0.80) ${ratio.median >= 0.8 ? "PASS" : "MISS"}`,
);
console.log(
  `  Notebox (median) / baseline + sha256 + fsync = ${fmt(noteboxRate / rate(hashed), 2)} (info: what is left once hashing is counted)`,
);
console.log(`  Notebox (median) / baseline without fsync = ${fmt(noteboxRate / rate(cached), 2)} (info)`);
