// Helpers for bench/upload and bench/download: streamed multipart uploads and downloads over
// node:http (the body is generated on the fly from one repeated random block, never held whole),
// and RSS sampling of another process from /proc.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import { fmt } from "./notebox.mjs";

export const MiB = 1024 * 1024;

/** Size from an environment variable in MiB (default 2048 = 2 GiB). */
export function sizeFromEnv(name, defaultMiB = 2048) {
  const raw = process.env[name];
  const mib = raw ? Number(raw) : defaultMiB;
  if (!Number.isFinite(mib) || mib <= 0) throw new Error(`${name} must be a size in MiB`);
  return Math.round(mib * MiB);
}

/** VmRSS of a process in bytes. */
export function rssOf(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Samples a process's RSS every `everyMs`; `stop()` returns the start, the peak and the growth. */
export function sampleRss(pid, everyMs = 50) {
  const start = rssOf(pid);
  let peak = start;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(pid));
    } catch {
      // the process is gone
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      try {
        peak = Math.max(peak, rssOf(pid));
      } catch {
        // the process is gone
      }
      return { start, peak, growth: peak - start };
    },
  };
}

const block = randomBytes(MiB);

/**
 * POSTs one `file` part of `size` bytes (one random 1 MiB block repeated) to `url`, honouring
 * backpressure. Resolves with the status, the answer and the seconds from first byte sent to
 * the answer's end.
 */
export function uploadFile(url, { size, name = "big.bin", headers = {} }) {
  const boundary = `benchboundary${randomBytes(8).toString("hex")}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request({
      host: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      method: "POST",
      agent: false,
      headers: {
        ...headers,
        "content-type": `multipart/form-data; boundary=${boundary}`,
        "content-length": String(head.length + size + tail.length),
      },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body, seconds: (performance.now() - started) / 1000 }));
    });
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(block.length, size - sent);
        sent += n;
        if (!req.write(n === block.length ? block : block.subarray(0, n))) {
          req.once("drain", pump);
          return;
        }
      }
      req.end(tail);
    };
    req.write(head);
    pump();
  });
}

/**
 * GETs `url` and discards the body. With `rate` (bytes/s) the reader paces itself by pausing
 * the response, as a slow client's full TCP window would; `maxSeconds` stops it early.
 */
export function downloadFile(url, { headers = {}, rate = 0, maxSeconds = Infinity } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, agent: false, headers },
      (res) => {
        let bytes = 0;
        let done = false;
        const finish = (complete) => {
          if (done) return;
          done = true;
          const seconds = (performance.now() - started) / 1000;
          resolve({ status: res.statusCode, headers: res.headers, bytes, seconds, complete });
        };
        res.on("data", (chunk) => {
          bytes += chunk.length;
          const elapsed = (performance.now() - started) / 1000;
          if (elapsed >= maxSeconds) {
            finish(false);
            req.destroy();
            return;
          }
          if (rate > 0) {
            const ahead = bytes / rate - elapsed; // seconds ahead of the pace
            if (ahead > 0.005) {
              res.pause();
              setTimeout(() => res.resume(), ahead * 1000);
            }
          }
        });
        res.on("end", () => finish(true));
        res.on("error", (error) => (done ? undefined : reject(error)));
      },
    );
    req.on("error", (error) => reject(error));
  });
}

export const mb = (bytes) => fmt(bytes / MiB, 1);
export const mbps = (bytes, seconds) => fmt(bytes / MiB / seconds, 0);

/** curl, if installed: a client that costs far less CPU than a Node reader. */
export const curlPath = ["/usr/bin/curl", "/usr/local/bin/curl"].find((p) => existsSync(p)) ?? null;

/** GETs `url` with curl into /dev/null; the same result shape as downloadFile. */
export function curlDownload(url, { headers = {} } = {}) {
  const args = ["-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}", url];
  for (const [k, v] of Object.entries(headers)) args.unshift("-H", `${k}: ${v}`);
  return new Promise((resolve, reject) => {
    execFile(curlPath, args, (error, stdout) => {
      if (error) return reject(error);
      const [status, bytes, seconds] = stdout.trim().split(" ").map(Number);
      resolve({ status, bytes, seconds, complete: true });
    });
  });
}
