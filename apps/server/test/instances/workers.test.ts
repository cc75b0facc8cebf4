// `notebox serve` with WORKERS=2 and no Redis, on both databases: one port, two worker processes
// behind a primary. Each request goes out on a connection of its own, which the primary hands to the
// workers in turn, and its X-Request-Id finds the worker's pid in the log. Whatever one worker
// does, the other sees on the very next request, with its in-process caches on: the primary
// relays every cache change and keeps the rate-limit counts. /metrics answers for both workers, a
// killed worker is replaced, and SIGTERM drains. On SQLite both workers write to one file, each
// through its own writer thread: concurrent writes through both are all saved.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes, randomInt } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient, type CallResult } from "../support/client";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { testDb } from "../support/env";
import { contentPath, MiB, uploadOne, type Page } from "../support/files";
import { METRICS_TOKEN } from "../support/metrics";
import type { Note, NoteSummary } from "../support/notes";
import { runCli, startServerProcess } from "../support/process";
import { createAdminWithCli, freePort, processAdmin } from "../support/services";

const serverDir = fileURLToPath(new URL("../..", import.meta.url));

/** One pino line of the cluster's output (the primary's and every worker's share stdout). */
type LogLine = { pid: number; msg: string; requestId?: string; workerPid?: number; url?: string } & Record<
  string,
  unknown
>;

interface Cluster {
  url: string;
  primaryPid: number;
  logs: LogLine[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  child: ChildProcess;
  /** Resolves with the first line `match` accepts, waiting for it as long as `timeoutMs`. */
  waitForLog(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** The pid of the worker that answered a response (by its X-Request-Id). */
  servedBy(res: { headers: Headers }): Promise<number>;
  /** Pids of the workers serving now, in the order they started. */
  workerPids(): number[];
  /** A client whose every request opens a connection of its own (so the primary picks a worker). */
  client(): TestClient;
  stop(): Promise<void>;
}

/** `notebox serve` (from source) with `env`; resolves once the primary says all workers listen. */
async function startCluster(env: Record<string, string>): Promise<Cluster> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "serve"], {
    cwd: serverDir,
    env: { ...env, LOG_LEVEL: "info", PORT: String(port), PUBLIC_URL: url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: LogLine[] = [];
  let partial = "";
  child.stdout.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line
      }
    }
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      running = false;
      resolve({ code, signal });
    }),
  );

  const waitForLog = async (match: (line: LogLine) => boolean, what: string, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = logs.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no log line ${what} within ${timeoutMs} ms:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const primaryPid = child.pid!;
  const cluster: Cluster = {
    url,
    primaryPid,
    logs,
    exited,
    child,
    waitForLog,
    async servedBy(res) {
      const id = res.headers.get("x-request-id");
      if (!id) throw new Error("the response carries no X-Request-Id");
      const line = await waitForLog((l) => l.requestId === id && l.msg === "request", `for request ${id}`, 5_000);
      return line.pid;
    },
    workerPids() {
      const exitedPids = new Set(logs.filter((l) => / exited with /.test(l.msg)).map((l) => l.workerPid));
      return logs
        .filter((l) => l.pid === primaryPid && / is serving$/.test(l.msg) && !exitedPids.has(l.workerPid))
        .map((l) => l.workerPid!);
    },
    client: () => new TestClient(url, url, { connection: "close" }),
    async stop() {
      if (!running) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 40_000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await waitForLog((l) => l.pid === primaryPid && / with 2 workers$/.test(l.msg), "saying 2 workers listen", 45_000);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/**
 * Sends `request` (on a new connection each time) until every worker in `pids` has answered one
 * or `max` were sent; returns each response with the pid that answered it.
 */
async function acrossWorkers<T extends { headers: Headers }>(
  cluster: Cluster,
  request: () => Promise<T>,
  pids = cluster.workerPids(),
  max = 12,
): Promise<{ res: T; pid: number }[]> {
  const answered: { res: T; pid: number }[] = [];
  for (let i = 0; i < max && !pids.every((pid) => answered.some((a) => a.pid === pid)); i++) {
    const res = await request();
    answered.push({ res, pid: await cluster.servedBy(res) });
  }
  return answered;
}

/** The value of one series in a Prometheus text (0 when absent). */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function signIn(cluster: Cluster): Promise<TestClient> {
  const client = cluster.client();
  const res = await client.mutation("auth.login", { email: processAdmin.email, password: processAdmin.password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.error)}`);
  return client;
}

const word = () => Array.from({ length: 10 }, () => String.fromCharCode(97 + randomInt(26))).join("");
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** The per-address limit on failed sign-ins (packages/core limits.ts: 30 per 15 minutes). */
const LOGIN_FAILURES_PER_IP = 30;
const LIST_HITS = 'notebox_cache_lookups_total{cache="list",outcome="hit"}';
const SESSION_HITS = 'notebox_cache_lookups_total{cache="session",outcome="hit"}';

describe("two workers on one port (WORKERS=2, no Redis)", () => {
  let dir: string;
  let db: TestDatabase | undefined;
  let cluster: Cluster;
  let metricsUrl: string;
  /** The administrator, signed in before the sign-in limit test locks this address out. */
  let owner: TestClient;
  const scrape = async () => {
    const res = await fetch(metricsUrl);
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "notebox-workers-"));
    db = await createTestDatabase(dir);
    const env = {
      NODE_ENV: "production",
      DATA_DIR: dir,
      DATABASE_URL: db.url,
      JWT_SECRET: randomBytes(48).toString("base64url"),
      WORKERS: "2",
      METRICS_PORT: String(await freePort()),
    };
    // The CLI migrates the new database; the cluster's primary then finds it up to date.
    await createAdminWithCli(env);
    cluster = await startCluster(env);
    metricsUrl = (
      await cluster.waitForLog((l) => l.pid === cluster.primaryPid && /^Metrics are served/.test(l.msg), "metrics")
    ).url!;
    owner = await signIn(cluster);
  });

  afterAll(async () => {
    await cluster?.stop();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("runs two worker processes besides the primary and hands requests to both", async () => {
    const workers = cluster.workerPids();
    expect(workers).toHaveLength(2);
    expect(new Set(workers).size).toBe(2);
    expect(workers).not.toContain(cluster.primaryPid);

    const answered = await acrossWorkers(cluster, () => cluster.client().fetch("/healthz"));
    expect(answered.every((a) => a.res.status === 200)).toBe(true);
    expect(new Set(answered.map((a) => a.pid))).toEqual(new Set(workers));
  });

  it("shows a write made through one worker in the very next read through the other, caches on", async () => {
    const hitsBefore = sample(await scrape(), LIST_HITS);
    const list = async () => {
      const res = await owner.query<Page<NoteSummary>>("notes.list", { limit: 50 });
      expect(res.status).toBe(200);
      return { items: res.data.items, pid: await cluster.servedBy(res) };
    };
    const steps = ["create", "rename", "delete"] as const;
    let note: Note | undefined;
    let crossed = 0;
    for (let round = 0; round < 24 && crossed < 6; round++) {
      // Warm both workers' caches (each read a connection of its own, handed out in turn).
      for (let i = 0; i < 3; i++) await list();

      const step = steps[round % steps.length]!;
      let res: CallResult<Note>;
      let title: string | undefined;
      if (step === "create") {
        title = `Written ${word()}`;
        res = await owner.mutation<Note>("notes.create", { title, description: "by one worker" });
      } else if (step === "rename") {
        title = `Renamed ${word()}`;
        res = await owner.mutation<Note>("notes.update", { id: note!.id, title, version: note!.version });
      } else res = await owner.mutation<Note>("notes.delete", { id: note!.id });
      expect(res.status).toBe(200);
      const id = step === "create" ? res.data.id : note!.id;
      note = step === "delete" ? undefined : res.data;
      const writer = await cluster.servedBy(res);

      for (let i = 0; i < 2; i++) {
        const { items, pid } = await list();
        const what = `${step} on ${writer}, read ${i + 1} on ${pid}`;
        expect(items.find((n) => n.id === id)?.title, what).toBe(title);
        if (pid !== writer) crossed++;
      }
    }
    expect(crossed).toBeGreaterThanOrEqual(6);
    // The caches were on: reads between writes were answered from them.
    expect(sample(await scrape(), LIST_HITS)).toBeGreaterThan(hitsBefore);
  });

  it("refuses a session signed out or revoked through one worker on every worker at once", async () => {
    const sessionHitsBefore = sample(await scrape(), SESSION_HITS);
    const everyWorker = async (client: TestClient, status: number) => {
      const answered = await acrossWorkers(cluster, () => client.query("notes.list"));
      expect(answered.map((a) => a.res.status)).toEqual(answered.map(() => status));
      expect(new Set(answered.map((a) => a.pid))).toEqual(new Set(cluster.workerPids()));
    };

    const leaving = await signIn(cluster);
    await everyWorker(leaving, 200); // now cached on both workers
    await everyWorker(leaving, 200); // and answered from those caches
    // The same browser's cookie, kept after the sign-out clears it from `leaving`.
    const replayed = cluster.client();
    replayed.cookies = new Map(leaving.cookies);
    expect((await leaving.mutation("auth.logout")).status).toBe(200);
    await everyWorker(replayed, 401);

    const phone = await signIn(cluster);
    await everyWorker(phone, 200);
    const sessions = await owner.query<{ items: { id: string; current: boolean }[] }>("auth.sessions.list");
    const others = sessions.data.items.filter((s) => !s.current);
    expect(others).toHaveLength(1); // the phone's: the signed-out one is gone
    expect((await owner.mutation("auth.sessions.revoke", { id: others[0]!.id })).status).toBe(200);
    await everyWorker(phone, 401);
    expect(sample(await scrape(), SESSION_HITS)).toBeGreaterThan(sessionHitsBefore);
  });

  it("serves /metrics for both workers together on the primary's METRICS_PORT only", async () => {
    const count = 'notebox_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}';
    const before = sample(await scrape(), count);
    const sent = 8;
    const answered: number[] = [];
    for (let i = 0; i < sent; i++) answered.push(await cluster.servedBy(await cluster.client().fetch("/healthz")));
    expect(new Set(answered)).toEqual(new Set(cluster.workerPids()));

    const text = await scrape();
    // One series summed over the workers, not one worker's share of it.
    expect(sample(text, count)).toBe(before + sent);
    expect(sample(text, "notebox_workers")).toBe(2);
    expect(text).toMatch(/^notebox_process_resident_memory_bytes \d+/m);
    expect(text.match(/^notebox_nodejs_version_info\{/gm)).toHaveLength(1);
    expect((await fetch(`${cluster.url}/metrics`)).status).toBe(404);
  });

  it("saves every one of many writes sent at once through both workers", async () => {
    // On SQLite the two workers' writer threads take turns at the file's write lock.
    const batch = `Batch ${word()}`;
    const count = 120;
    const sent = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        owner.mutation<Note>("notes.create", { title: `${batch} ${i}`, description: `written in parallel, ${i}` }),
      ),
    );
    expect(sent.map((r) => r.status)).toEqual(sent.map(() => 200));
    const writers = new Set(await Promise.all(sent.map((r) => cluster.servedBy(r))));
    expect(writers).toEqual(new Set(cluster.workerPids()));
    const edited = await Promise.all(
      sent.map((r) =>
        owner.mutation<Note>("notes.update", {
          id: r.data.id,
          title: `${r.data.title} edited`,
          version: r.data.version,
        }),
      ),
    );
    expect(edited.map((r) => r.status)).toEqual(edited.map(() => 200));

    const titles: string[] = [];
    let cursor: string | null = null;
    do {
      const page: CallResult<Page<NoteSummary>> = await owner.query<Page<NoteSummary>>("notes.list", {
        limit: 100,
        ...(cursor ? { cursor } : {}),
      });
      expect(page.status).toBe(200);
      titles.push(...page.data.items.map((n) => n.title).filter((t) => t.startsWith(batch)));
      cursor = page.data.nextCursor;
    } while (cursor);
    expect(titles.sort()).toEqual(Array.from({ length: count }, (_, i) => `${batch} ${i} edited`).sort());
  });

  it("counts sign-in failures from one address together across the workers", async () => {
    const attempt = () =>
      cluster.client().mutation("auth.login", { email: `nobody.${word()}@example.test`, password: "not the password" });
    // Each address is new, so only the per-address limit can refuse.
    const pids = new Set<number>();
    for (let n = 0; n < LOGIN_FAILURES_PER_IP; n++) {
      const res = await attempt();
      expect(res.status, `attempt ${n + 1}`).toBe(401);
      pids.add(await cluster.servedBy(res));
    }
    expect(pids).toEqual(new Set(cluster.workerPids()));
    const refused = await acrossWorkers(cluster, attempt);
    for (const { res } of refused) {
      expect(res.status).toBe(429);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
  });

  it("starts another worker when one is killed, and keeps the counts the primary holds", async () => {
    const [victim, survivor] = cluster.workerPids() as [number, number];
    process.kill(victim, "SIGKILL");
    // Once the primary knows, no connection goes to the dead worker (one handed to it before
    // would hang: node:cluster cannot take it back).
    await cluster.waitForLog((l) => l.workerPid === victim && / exited with signal SIGKILL/.test(l.msg), "exit");
    const meanwhile = await cluster.client().fetch("/healthz");
    expect(meanwhile.status).toBe(200);
    expect(await cluster.servedBy(meanwhile)).toBe(survivor);

    const started = await cluster.waitForLog(
      (l) => l.pid === cluster.primaryPid && / is serving$/.test(l.msg) && ![victim, survivor].includes(l.workerPid!),
      "for a new worker",
    );
    const replacement = started.workerPid!;
    expect(cluster.workerPids()).toEqual([survivor, replacement]);
    const answered = await acrossWorkers(cluster, () => owner.query("notes.list"));
    expect(answered.map((a) => a.res.status)).toEqual(answered.map(() => 200));
    expect(answered.map((a) => a.pid)).toContain(replacement);
    // The sign-in limit reached before is still reached on the new worker.
    const refused = await acrossWorkers(
      cluster,
      () => cluster.client().mutation("auth.login", { email: `x.${word()}@example.test`, password: "wrong" }),
      [replacement],
    );
    expect(refused.map((a) => a.res.status)).toEqual(refused.map(() => 429));

    const text = await scrape();
    expect(sample(text, "notebox_workers")).toBe(2);
    expect(sample(text, "notebox_worker_restarts_total")).toBe(1);
  });

  it("drains on SIGTERM: finishes a download in flight, then exits 0", async () => {
    const bytes = randomBytes(16 * MiB);
    const file = await uploadOne(owner, "large.bin", bytes);
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get(`${cluster.url}${contentPath(file.id)}`, { headers: { cookie: owner.cookieHeader() } }, resolve)
        .on("error", reject);
    });
    expect(res.statusCode).toBe(200);
    res.pause();

    const draining = cluster.workerPids();
    cluster.child.kill("SIGTERM");
    // Both workers were told, and are draining (no new connection is opened here: one the
    // primary accepts as the last worker stops listening waits, in node:cluster, until the
    // primary exits); the download, still open, keeps the primary and its worker running.
    for (const pid of draining) {
      await cluster.waitForLog((l) => l.pid === pid && /^shutting down/.test(l.msg), `from worker ${pid} draining`);
    }
    expect(cluster.child.exitCode).toBeNull();

    const body = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve(Buffer.concat(chunks)));
      res.on("error", reject);
      res.resume();
    });
    expect(body.length).toBe(bytes.length);
    expect(sha256(body)).toBe(sha256(bytes));
    expect(await cluster.exited).toEqual({ code: 0, signal: null });
  });
});

describe("two workers with /metrics on the main port (METRICS_TOKEN)", () => {
  let dir: string;
  let db: TestDatabase | undefined;
  let cluster: Cluster;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "notebox-workers-token-"));
    db = await createTestDatabase(dir);
    cluster = await startCluster({
      NODE_ENV: "production",
      DATA_DIR: dir,
      DATABASE_URL: db.url,
      JWT_SECRET: randomBytes(48).toString("base64url"),
      WORKERS: "2",
      METRICS_TOKEN,
    });
  });

  afterAll(async () => {
    await cluster?.stop();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("answers for both workers whichever of them takes the scrape", async () => {
    const sent = 6;
    for (let i = 0; i < sent; i++) expect((await cluster.client().fetch("/healthz")).status).toBe(200);
    const count = 'notebox_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}';
    const scrapes = await acrossWorkers(cluster, () =>
      cluster.client().fetch("/metrics", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }),
    );
    expect(new Set(scrapes.map((s) => s.pid))).toEqual(new Set(cluster.workerPids()));
    for (const { res } of scrapes) {
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(sample(text, count)).toBe(sent);
      expect(sample(text, "notebox_workers")).toBe(2);
    }
    expect((await cluster.client().fetch("/metrics")).status).toBe(401);
  });
});

describe("a cluster told to stop while it is still starting", () => {
  it("drains and exits 0 when SIGTERM comes as soon as its first worker is ready", async () => {
    // /readyz answers from the first worker while the primary still waits for the other three: a
    // primary that took SIGTERM only once all were up died of it there (exit by signal).
    const dir = await mkdtemp(path.join(os.tmpdir(), "notebox-workers-early-"));
    const db = await createTestDatabase(dir);
    try {
      for (let i = 0; i < 2; i++) {
        const server = await startServerProcess({ DATA_DIR: dir, DATABASE_URL: db.url, WORKERS: "4" });
        await server.stop();
        expect(await server.exited).toEqual({ code: 0, signal: null });
      }
    } finally {
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe.runIf(testDb === "sqlite")("the WORKERS setting", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "notebox-workers-config-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("refuses several processes for a database in memory, naming the variable and the reason", async () => {
    const res = await runCli(["serve"], { DATA_DIR: dir, DATABASE_URL: "sqlite::memory:", WORKERS: "2" });
    expect(res.code).toBe(78);
    expect(res.stderr).toMatch(/WORKERS: a database in memory is served by one process; set WORKERS=1/);
    expect(res.stderr).not.toMatch(/ at /);
  });

  it.for(["0", "x", "-1", "1.5"])("refuses WORKERS=%s", async (value) => {
    const res = await runCli(["serve"], { DATA_DIR: dir, WORKERS: value });
    expect(res.code).toBe(78);
    expect(res.stderr).toMatch(/WORKERS: expected a number of server processes \(1 or more\) or auto/);
  });
});
