// bench/upload: one large file (2 GiB by default) uploaded to Notebox as a streamed multipart
// body while the server's RSS is sampled every 50 ms: peak RSS growth (target <= 64 MB) and
// throughput; then the same upload to a bare node:http + busboy -> file baseline in another
// process on the same disk, in the same run (target: Notebox >= 80% of the baseline).
// BENCH_UPLOAD_MB=512 scales the file down.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, freePort, run, signIn, startNotebox } from "./lib/notebox.mjs";
import { mb, mbps, MiB, sampleRss, sizeFromEnv, uploadFile } from "./lib/transfer.mjs";

const size = sizeFromEnv("BENCH_UPLOAD_MB");
const limit = String(Math.max(3 * 1024 * MiB, size + 64 * MiB));

/** Uploads `size` bytes to `url` while sampling `pid`'s RSS. */
async function measured(pid, url, headers) {
  const rss = sampleRss(pid);
  const result = await uploadFile(url, { size, headers });
  const memory = rss.stop();
  if (result.status !== 201) throw new Error(`upload answered ${result.status}: ${result.body.slice(0, 300)}`);
  return { ...result, memory };
}

// --- Notebox ---------------------------------------------------------------------------------
const server = await startNotebox({ MAX_UPLOAD_BYTES: limit, USER_QUOTA_BYTES: limit });
let notebox;
try {
  const email = "uploader@example.test";
  const password = "bench passphrase for uploads";
  await run(["create-admin", "--email", email, "--username", "uploader", "--password-stdin"], server.env, password);
  const cookie = await signIn(server, email, password);
  const headers = { cookie, origin: `http://localhost:${new URL(server.url).port}` };
  const remove = async (body) => {
    const [item] = JSON.parse(body).items;
    const res = await fetch(`${server.url}/api/v1/trpc/files.delete`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ id: item.id }),
    });
    if (!res.ok) throw new Error(`files.delete ${res.status}`);
    return item;
  };

  // Warm-up: the upload path's code and buffers, once.
  const warm = await uploadFile(`${server.url}/api/v1/files`, { size: 16 * MiB, headers });
  if (warm.status !== 201) throw new Error(`warm-up upload answered ${warm.status}: ${warm.body}`);
  await remove(warm.body);

  notebox = await measured(server.pid, `${server.url}/api/v1/files`, headers);
  const item = await remove(notebox.body);
  if (item.size !== size) throw new Error(`stored ${item.size} bytes, sent ${size}`);
} finally {
  await server.stop();
}

// --- Baseline: node:http + busboy -> file, in its own process ---------------------------------
const dir = await mkdtemp(path.join(os.tmpdir(), "notebox-bench-baseline-"));
const port = await freePort();
const baselineScript = fileURLToPath(new URL("./lib/upload-baseline.mjs", import.meta.url));
const baseline = spawn(process.execPath, [baselineScript, String(port), dir], { stdio: ["ignore", "pipe", "inherit"] });
let durable;
let hashed;
let cached;
try {
  await new Promise((resolve, reject) => {
    baseline.stdout.once("data", resolve);
    baseline.once("exit", (code) => reject(new Error(`baseline exited ${code}`)));
  });
  const url = `http://127.0.0.1:${port}/upload`;
  const clean = async (body) => Promise.all(JSON.parse(body).files.map((f) => rm(f, { force: true })));
  await clean((await uploadFile(`${url}?fsync=1`, { size: 16 * MiB })).body); // warm-up
  durable = await measured(baseline.pid, `${url}?fsync=1`, {});
  await clean(durable.body);
  hashed = await measured(baseline.pid, `${url}?fsync=1&hash=1`, {});
  await clean(hashed.body);
  cached = await measured(baseline.pid, url, {});
  await clean(cached.body);
} finally {
  baseline.kill("SIGTERM");
  await rm(dir, { recursive: true, force: true });
}

// --- Report ----------------------------------------------------------------------------------
const rate = (r) => size / MiB / r.seconds;
const ratio = rate(notebox) / rate(durable);
const growthMb = notebox.memory.growth / 1e6;
console.log("bench/upload");
console.log(
  `  file: ${mb(size)} MiB${size === 2048 * MiB ? "" : " (scaled down with BENCH_UPLOAD_MB; the target is set for 2048)"}, one multipart part, loopback, local disk storage`,
);
console.log(
  `  Notebox:                          ${mbps(size, notebox.seconds)} MiB/s (${fmt(notebox.seconds)} s)  server RSS ${mb(notebox.memory.start)} -> peak ${mb(notebox.memory.peak)} MiB`,
);
console.log(`  peak RSS growth: ${fmt(growthMb)} MB (target <= 64 MB) ${growthMb <= 64 ? "PASS" : "MISS"}`);
console.log(
  `  baseline busboy -> file + fsync:  ${mbps(size, durable.seconds)} MiB/s (${fmt(durable.seconds)} s)  RSS growth ${fmt(durable.memory.growth / 1e6)} MB`,
);
console.log(
  `  baseline + sha256 + fsync (info): ${mbps(size, hashed.seconds)} MiB/s (${fmt(hashed.seconds)} s)  RSS growth ${fmt(hashed.memory.growth / 1e6)} MB`,
);
console.log(
  `  baseline without fsync (info):    ${mbps(size, cached.seconds)} MiB/s (${fmt(cached.seconds)} s)  RSS growth ${fmt(cached.memory.growth / 1e6)} MB`,
);
console.log(`  Notebox / baseline (both fsync) = ${fmt(ratio, 2)} (target >= 0.80) ${ratio >= 0.8 ? "PASS" : "MISS"}`);
console.log(
  `  Notebox / baseline + sha256 + fsync = ${fmt(rate(notebox) / rate(hashed), 2)} (info: what is left once hashing is counted)`,
);
console.log(`  Notebox / baseline without fsync = ${fmt(rate(notebox) / rate(cached), 2)} (info)`);
