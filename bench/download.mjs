// bench/download: one large file (2 GiB by default) stored through Notebox (local disk driver),
// then downloaded: (a) by a fast client that reads as fast as it can — server RSS growth (target
// <= 32 MB) and throughput; (b) by a slow client reading ~10 MiB/s for ~20 s — RSS growth (target
// <= 32 MB: backpressure must hold the reads back, not buffer); (c) the same file from nginx
// (Debian package, sendfile on, started here on a free loopback port) — Notebox/nginx throughput
// (target >= 50%). BENCH_DOWNLOAD_MB scales the file down.
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fmt, freePort, median, run, signIn, startNotebox } from "./lib/notebox.mjs";
import {
  curlDownload,
  curlPath,
  downloadFile,
  mb,
  mbps,
  MiB,
  sampleRss,
  sizeFromEnv,
  uploadFile,
} from "./lib/transfer.mjs";

const size = sizeFromEnv("BENCH_DOWNLOAD_MB");
const limit = String(Math.max(3 * 1024 * MiB, size + 64 * MiB));
const rounds = 3;
const slowRate = 10 * MiB;
const slowSeconds = 20;
/** The fast client: curl into /dev/null when installed (it costs the machine least), else a Node reader. */
const fastClient = curlPath ? "curl -o /dev/null" : "node:http reader";
const fastDownload = curlPath ? curlDownload : downloadFile;

function findNginx() {
  for (const candidate of ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"])
    if (existsSync(candidate)) return candidate;
  try {
    return execFileSync("sh", ["-c", "command -v nginx"], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

/** nginx serving `root` on a free loopback port, with a generated minimal configuration. */
async function startNginx(binary, root) {
  const prefix = await mkdtemp(path.join(os.tmpdir(), "notebox-bench-nginx-"));
  const port = await freePort();
  for (const dir of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) await mkdir(path.join(prefix, dir));
  const conf = path.join(prefix, "nginx.conf");
  await writeFile(
    conf,
    `${process.getuid?.() === 0 ? "user root;\n" : ""}worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  default_type application/octet-stream;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / { }
  }
}
`,
  );
  const child = spawn(binary, ["-p", prefix, "-c", conf, "-e", `${prefix}/error.log`], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}; see ${prefix}/error.log`);
    try {
      await fetch(`${url}/`, { method: "HEAD" });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    async stop() {
      child.kill("SIGQUIT");
      await exited;
      await rm(prefix, { recursive: true, force: true });
    },
  };
}

const server = await startNotebox({ MAX_UPLOAD_BYTES: limit, USER_QUOTA_BYTES: limit });
let fast;
let fastRss;
let slow;
let slowRss;
let nginxRuns = null;
let nginxNote = "";
try {
  const email = "downloader@example.test";
  const password = "bench passphrase for downloads";
  await run(["create-admin", "--email", email, "--username", "downloader", "--password-stdin"], server.env, password);
  const cookie = await signIn(server, email, password);
  const origin = `http://localhost:${new URL(server.url).port}`;

  const stored = await uploadFile(`${server.url}/api/v1/files`, { size, headers: { cookie, origin } });
  if (stored.status !== 201) throw new Error(`upload answered ${stored.status}: ${stored.body.slice(0, 300)}`);
  const [file] = JSON.parse(stored.body).items;
  const content = `${server.url}/api/v1/files/${file.id}/content`;
  // With the local driver the bytes are at DATA_DIR/files/<ownerId>/<fileId>.
  const filesDir = path.join(server.env.DATA_DIR, "files");
  const ownerDir = (await readdir(filesDir)).find((d) => existsSync(path.join(filesDir, d, file.id)));
  if (!ownerDir) throw new Error("stored file not found under DATA_DIR/files");

  // Warm-up: the download path and the page cache.
  await downloadFile(content, { headers: { cookie, range: `bytes=0-${Math.min(size, 64 * MiB) - 1}` } });

  // (a) fast client, a few rounds; alternating with nginx below when it is available.
  const nginxBinary = findNginx();
  const nginx = nginxBinary ? await startNginx(nginxBinary, filesDir) : null;
  if (!nginxBinary) nginxNote = "nginx is not installed (apt-get install -y nginx): (c) skipped";
  try {
    const nginxUrl = nginx ? `${nginx.url}/${ownerDir}/${file.id}` : null;
    if (nginxUrl) await fastDownload(nginxUrl); // warm-up
    fast = [];
    nginxRuns = nginx ? [] : null;
    const rss = sampleRss(server.pid);
    for (let r = 0; r < rounds; r++) {
      const got = await fastDownload(content, { headers: { cookie } });
      if (got.status !== 200 || got.bytes !== size) throw new Error(`download: ${got.status}, ${got.bytes} bytes`);
      fast.push(got);
      if (nginxUrl) {
        const n = await fastDownload(nginxUrl);
        if (n.status !== 200 || n.bytes !== size) throw new Error(`nginx download: ${n.status}, ${n.bytes} bytes`);
        nginxRuns.push(n);
      }
    }
    fastRss = rss.stop();
  } finally {
    await nginx?.stop();
  }

  // (b) slow client: ~10 MiB/s for ~20 s (or the whole file when that is shorter).
  const rss = sampleRss(server.pid);
  slow = await downloadFile(content, { headers: { cookie }, rate: slowRate, maxSeconds: slowSeconds });
  slowRss = rss.stop();
} finally {
  await server.stop();
}

const rateOf = (r) => r.bytes / MiB / r.seconds;
const fastRate = median(fast.map(rateOf));
const fastGrowth = fastRss.growth / 1e6;
const slowGrowth = slowRss.growth / 1e6;
console.log("bench/download");
console.log(
  `  file: ${mb(size)} MiB${size === 2048 * MiB ? "" : " (scaled down with BENCH_DOWNLOAD_MB; the targets are set for 2048)"}, local disk storage, loopback, page cache warm`,
);
console.log(
  `  (a) fast client (${fastClient}), Notebox, ${rounds} rounds: ${fast.map((r) => mbps(r.bytes, r.seconds)).join(", ")} MiB/s (median ${fmt(fastRate, 0)})  server RSS ${mb(fastRss.start)} -> peak ${mb(fastRss.peak)} MiB`,
);
console.log(`      RSS growth ${fmt(fastGrowth)} MB (target <= 32 MB) ${fastGrowth <= 32 ? "PASS" : "MISS"}`);
console.log(
  `  (b) slow client (~${fmt(slowRate / MiB, 0)} MiB/s): read ${mb(slow.bytes)} MiB in ${fmt(slow.seconds)} s (${mbps(slow.bytes, slow.seconds)} MiB/s${slow.complete ? ", whole file" : ", then hung up"})  server RSS ${mb(slowRss.start)} -> peak ${mb(slowRss.peak)} MiB`,
);
console.log(`      RSS growth ${fmt(slowGrowth)} MB (target <= 32 MB) ${slowGrowth <= 32 ? "PASS" : "MISS"}`);
if (nginxRuns) {
  const nginxRate = median(nginxRuns.map(rateOf));
  const ratio = fastRate / nginxRate;
  console.log(
    `  (c) nginx sendfile, same file, same client, alternating with (a): ${nginxRuns.map((r) => mbps(r.bytes, r.seconds)).join(", ")} MiB/s (median ${fmt(nginxRate, 0)})`,
  );
  console.log(`  Notebox / nginx = ${fmt(ratio, 2)} (target >= 0.50) ${ratio >= 0.5 ? "PASS" : "MISS"}`);
} else {
  console.log(`  (c) ${nginxNote}`);
}
