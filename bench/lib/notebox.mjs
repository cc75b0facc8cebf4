// Shared bench helpers: start the built Notebox server on a private data dir and port, and
// drive it with autocannon. Everything runs on loopback.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

export const root = fileURLToPath(new URL("../..", import.meta.url));
export const cli = path.join(root, "apps/server/dist/cli.js");
/** The server with the benchmarks' extra routes (`npm run build:bench -w @notebox/server`). */
export const benchEntry = path.join(root, "apps/server/dist/bench-entry.js");

export async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export function run(args, env, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${args[0]} exited ${code}`))));
    child.stdin.end(input ?? "");
  });
}

/**
 * Starts `notebox serve` and resolves once /readyz answers. `entry` runs another built entry
 * (dist/bench-entry.js) with `args`; a given `dataDir` belongs to the caller and survives `stop()`.
 * `onOutput` takes the server's stdout (its JSON log lines) instead of the bench's own. `nodeArgs`
 * are node's own flags for the server process (e.g. `--expose-gc`).
 */
export async function startNotebox(
  extraEnv = {},
  { entry, args: entryArgs = [], dataDir: ownDir, onOutput, nodeArgs = [] } = {},
) {
  const dataDir = ownDir ?? (await mkdtemp(path.join(os.tmpdir(), "notebox-bench-")));
  const port = await freePort();
  // One process unless a bench asks for more (bench/workers): the benches read one server's memory
  // and CPU by its pid, and their figures compare with one process's.
  const env = {
    DATA_DIR: dataDir,
    PORT: String(port),
    LOG_LEVEL: "warn",
    NODE_ENV: "development",
    WORKERS: "1",
    ...extraEnv,
  };
  const args = [...nodeArgs, ...(entry ? [entry, ...entryArgs] : [cli, "serve"])];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", onOutput ? "pipe" : "inherit", "inherit"],
  });
  if (onOutput) child.stdout.on("data", onOutput);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    env,
    pid: child.pid,
    /** SIGTERM drains in-flight requests; SIGKILL is for a server stuck on a request. */
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        await new Promise((r) => child.once("close", r));
      }
      if (!ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * startNotebox's options for `notebox serve` (dist/cli.js) as a primary whose workers run the bench
 * entry with `args`: node:cluster forks `cluster.settings.exec`, which this preload sets before the
 * CLI forks (the bench entry runs the single-process server, so it cannot be a primary itself).
 * Workers inherit node's flags, so they load the preload too; it does nothing there.
 */
export function benchEntryCluster(args = ["--no-cache"]) {
  const preload = `import cluster from "node:cluster";
if (cluster.isPrimary) cluster.setupPrimary({ exec: ${JSON.stringify(benchEntry)}, args: ${JSON.stringify(args)} });`;
  return { entry: cli, args: ["serve"], nodeArgs: [`--import=data:text/javascript,${encodeURIComponent(preload)}`] };
}

export function cannon(options) {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

export const fmt = (n, digits = 1) => Number(n).toFixed(digits);

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Signs in over tRPC as a browser on the app's own origin would; returns the Cookie header value. */
export async function signIn(server, email, password) {
  const res = await fetch(`${server.url}/api/v1/trpc/auth.login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: `http://localhost:${new URL(server.url).port}` },
    body: JSON.stringify({ email, password }),
  });
  if (!res.ok) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  return res.headers.getSetCookie()[0].split(";")[0];
}

/** `count` notes of 40-120 words for the signed-in person, created over tRPC 20 at a time. */
export async function seedNotes(server, cookie, count) {
  const origin = `http://localhost:${new URL(server.url).port}`;
  const words =
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa".split(" ");
  const create = (i) =>
    fetch(`${server.url}/api/v1/trpc/notes.create`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie, origin },
      body: JSON.stringify({
        title: `Note ${i} ${words[i % words.length]}`,
        description: Array.from({ length: 40 + (i % 80) }, (_, k) => words[(i * 7 + k) % words.length]).join(" "),
      }),
    }).then((r) => {
      if (!r.ok) throw new Error(`notes.create ${r.status}`);
    });
  for (let i = 0; i < count; i += 20)
    await Promise.all(Array.from({ length: Math.min(20, count - i) }, (_, k) => create(i + k)));
}

/** Mean throughput, p50, p99 and error count over several autocannon runs of one target. */
export function summarizeRuns(list) {
  return {
    rps: list.reduce((s, r) => s + r.requests.average, 0) / list.length,
    p50: list.reduce((s, r) => s + r.latency.p50, 0) / list.length,
    p99: list.reduce((s, r) => s + r.latency.p99, 0) / list.length,
    errors: list.reduce((s, r) => s + r.errors + r.non2xx, 0),
  };
}

/**
 * Runs two sides in `pairs` pairs, the order flipping every pair (a then b, b then a, ...) so that
 * neither side always runs first or always in a quieter moment of a shared machine. `runA` and
 * `runB` get the pair's index; `ratio(a, b)` turns one pair's results into a number. Returns every
 * result of each side and the per-pair ratios.
 */
export async function alternate(pairs, runA, runB, ratio) {
  const out = { a: [], b: [], ratios: [] };
  for (let p = 0; p < pairs; p++) {
    let a;
    let b;
    if (p % 2 === 0) {
      a = await runA(p);
      b = await runB(p);
    } else {
      b = await runB(p);
      a = await runA(p);
    }
    out.a.push(a);
    out.b.push(b);
    out.ratios.push(ratio(a, b));
  }
  return out;
}

/** The median of `values` (the mean of the two middle ones for an even count) and their range. */
export function spread(values) {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  const m = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median: m, min: sorted[0], max: sorted[sorted.length - 1] };
}

/** `62% (pairs: 55–70%)`: a median ratio as a percentage with its per-pair range. */
export function percentSpread(values, digits = 0) {
  const { median: m, min, max } = spread(values);
  return `${fmt(m * 100, digits)}% (pairs: ${fmt(min * 100, digits)}–${fmt(max * 100, digits)}%)`;
}

/** `1.42x (pairs: 1.10–1.85x)`: a median ratio with its per-pair range. */
export function timesSpread(values, digits = 2) {
  const { median: m, min, max } = spread(values);
  return `${fmt(m, digits)}x (pairs: ${fmt(min, digits)}–${fmt(max, digits)}x)`;
}
