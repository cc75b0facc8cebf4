// Private MariaDB and Redis servers on spare loopback ports, for fault tests that stop and start
// them under load without touching the machine's shared services; and the one-account setup that
// tests of `notebox serve` processes share.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import mysql from "mysql2/promise";
import type { TestClient } from "./client";
import { runCli, type ServerProcess } from "./process";
import { freePort } from "./server";

const run = promisify(execFile);

/** Children still running: killed if the test process exits while a test that started them failed. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export { freePort };

/** Where system packages put server binaries; spawn itself needs no help finding them. */
const binaryDirs = ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/opt/homebrew/bin", "/sbin", "/bin"];

/** The first of `names` installed as an executable, or null. */
export function findExecutable(...names: string[]): string | null {
  for (const name of names) {
    for (const dir of binaryDirs) {
      try {
        accessSync(path.join(dir, name), constants.X_OK);
        return path.join(dir, name);
      } catch {
        // not here
      }
    }
  }
  return null;
}

export interface PrivateService {
  port: number;
  /** The URL Notebox takes for it (DATABASE_URL or REDIS_URL). */
  url: string;
  running(): boolean;
  /** Starts it (again, on the same port and data) and resolves once it answers. */
  start(): Promise<void>;
  /** Sends `signal` (SIGTERM by default) and resolves once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it and removes its files. Safe to call twice. */
  dispose(): Promise<void>;
  /** The end of what it printed, for failure messages. */
  output(): string;
}

/** Runs `command args` on demand, keeping its output, until disposed. */
function supervise(options: {
  name: string;
  command: string;
  args: string[];
  ready: () => Promise<boolean>;
  dir: string;
}): Omit<PrivateService, "port" | "url"> {
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-16_000);
  };

  async function stop(signal: NodeJS.Signals = "SIGTERM") {
    const current = child;
    if (!current) return;
    current.kill(signal);
    const timer = setTimeout(() => current.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(timer);
  }

  return {
    running: () => child !== null,
    output: () => output,
    stop,
    async start() {
      if (child) throw new Error(`${options.name} is already running`);
      const started = spawn(options.command, options.args, { cwd: options.dir, stdio: ["ignore", "pipe", "pipe"] });
      child = started;
      running.add(started);
      started.stdout.on("data", keep);
      started.stderr.on("data", keep);
      exited = new Promise((resolve) => {
        const gone = () => {
          running.delete(started);
          if (child === started) child = null;
          resolve();
        };
        started.once("exit", gone);
        // It could not be started at all (no 'exit' follows).
        started.once("error", (error) => {
          keep(Buffer.from(`\n${String(error)}\n`));
          gone();
        });
      });
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (child !== started) throw new Error(`${options.name} exited before it was ready:\n${output}`);
        if (await options.ready()) return;
        if (Date.now() > deadline) {
          await stop("SIGKILL");
          throw new Error(`${options.name} did not answer within 30 s:\n${output}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async dispose() {
      await stop("SIGKILL");
      await rm(options.dir, { recursive: true, force: true });
    },
  };
}

export const mariaDbAvailable = () =>
  findExecutable("mariadbd", "mysqld") !== null && findExecutable("mariadb-install-db", "mysql_install_db") !== null;
export const redisAvailable = () => findExecutable("redis-server") !== null;

/**
 * A MariaDB server of its own: a fresh data directory, root without a password on 127.0.0.1,
 * and an empty `notebox` database. Small InnoDB files so it starts in about a second.
 */
export async function startPrivateMariaDb(): Promise<PrivateService> {
  const server = findExecutable("mariadbd", "mysqld");
  const install = findExecutable("mariadb-install-db", "mysql_install_db");
  if (!server || !install) throw new Error("MariaDB is not installed (no mariadbd or mariadb-install-db)");
  // Short: the socket path must fit in 108 bytes.
  const dir = await mkdtemp(path.join(os.tmpdir(), "nbmdb-"));
  const datadir = path.join(dir, "data");
  const port = await freePort();
  // mariadbd refuses to run as root unless told to; CI runs as root.
  const asRoot = process.getuid?.() === 0 ? ["--user=root"] : [];
  const small = ["--innodb-log-file-size=8M", "--innodb-buffer-pool-size=32M"];
  try {
    await run(
      install,
      [
        "--no-defaults",
        `--datadir=${datadir}`,
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
        ...asRoot,
        ...small,
      ],
      { cwd: dir },
    );
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const connect = () => mysql.createConnection({ host: "127.0.0.1", port, user: "root", connectTimeout: 2_000 });
  const service = supervise({
    name: "mariadbd",
    command: server,
    args: [
      "--no-defaults",
      `--datadir=${datadir}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      `--socket=${path.join(dir, "mysqld.sock")}`,
      `--pid-file=${path.join(dir, "mysqld.pid")}`,
      "--skip-name-resolve",
      "--skip-log-bin",
      "--max-connections=100",
      ...asRoot,
      ...small,
    ],
    dir,
    async ready() {
      try {
        const conn = await connect();
        try {
          await conn.query("SELECT 1");
          return true;
        } finally {
          await conn.end();
        }
      } catch {
        return false;
      }
    },
  });
  await service.start();
  try {
    const conn = await connect();
    await conn.query("CREATE DATABASE notebox CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
    await conn.end();
  } catch (error) {
    await service.dispose();
    throw error;
  }
  return { ...service, port, url: `mysql://root@127.0.0.1:${port}/notebox` };
}

/** Sends PING over a raw socket; true on +PONG. */
function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}

/** A Redis server of its own, in memory only (no snapshots, no append-only file). */
export async function startPrivateRedis(): Promise<PrivateService> {
  const server = findExecutable("redis-server");
  if (!server) throw new Error("Redis is not installed (no redis-server)");
  const dir = await mkdtemp(path.join(os.tmpdir(), "nbredis-"));
  const port = await freePort();
  const service = supervise({
    name: "redis-server",
    command: server,
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--daemonize",
      "no",
    ],
    dir,
    ready: () => redisPing(port),
  });
  await service.start();
  return { ...service, port, url: `redis://127.0.0.1:${port}` };
}

export const processAdmin = { email: "ops@example.test", username: "ops_admin", password: "a long enough passphrase" };

/** Creates the administrator through the CLI, the way an operator sets up a fresh install. */
export async function createAdminWithCli(env: Record<string, string>, account = processAdmin): Promise<void> {
  const created = await runCli(
    ["create-admin", "--email", account.email, "--username", account.username, "--password-stdin"],
    env,
    `${account.password}\n`,
  );
  if (created.code !== 0) throw new Error(`create-admin failed: ${created.stderr}`);
}

/** A client of `server` signed in as `account`. */
export async function signInTo(server: ServerProcess, account = processAdmin): Promise<TestClient> {
  const client = server.client();
  const res = await client.mutation("auth.login", { email: account.email, password: account.password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.error)}`);
  return client;
}

/** One request of a steady load and how it went. */
export interface Outcome {
  op: string;
  /** What the test was doing to the services when the request was sent. */
  phase: string;
  /** The HTTP status; 0 when no answer came (connection refused or reset, or `timeoutMs` passed). */
  status: number;
  /** When it was sent (performance.now() of the test process) and how long the answer took. */
  sentAt: number;
  ms: number;
  /** The id a create returned. */
  id?: string;
  /** The error message a failure carried, or why there was no answer. */
  message?: string;
}

export interface Load {
  outcomes: Outcome[];
  /** Labels the requests sent from now on. */
  phase: string;
  /** Lets the requests in flight finish and stops sending. */
  stop(): Promise<Outcome[]>;
}

export interface LoadRequest {
  op: string;
  send: () => Promise<Pick<Outcome, "status" | "id" | "message">>;
}

/**
 * `workers` loops each sending one request after another (`next(n)` makes the n-th request of the
 * whole load) until stopped. A request with no answer within `timeoutMs` counts as status 0, so a
 * hang fails the test instead of stalling it.
 */
export function startLoad(
  workers: number,
  next: (n: number) => LoadRequest,
  { timeoutMs = 15_000, pauseMs = 20 } = {},
): Load {
  let stopped = false;
  let count = 0;
  const load: Load = {
    outcomes: [],
    phase: "before",
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return load.outcomes;
    },
  };
  const one = async () => {
    const phase = load.phase;
    const { op, send } = next(count++);
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      send().catch((error: unknown) => ({ status: 0, message: String(error) })),
      new Promise<Pick<Outcome, "status" | "message">>((resolve) => {
        timer = setTimeout(() => resolve({ status: 0, message: `no answer within ${timeoutMs} ms` }), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    load.outcomes.push({ op, phase, sentAt: started, ms: Math.round(performance.now() - started), ...result });
  };
  const loops = Array.from({ length: workers }, async () => {
    while (!stopped) {
      await one();
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  });
  return load;
}

/** Counts of each status per phase, e.g. `{ before: { 200: 40 }, down: { 500: 31 } }`. */
export function statusesByPhase(outcomes: Outcome[]): Record<string, Record<number, number>> {
  const table: Record<string, Record<number, number>> = {};
  for (const o of outcomes) {
    const row = (table[o.phase] ??= {});
    row[o.status] = (row[o.status] ?? 0) + 1;
  }
  return table;
}
