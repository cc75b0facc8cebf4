// The SQLite driver Sequelize is given (`dialectModule`): the subset of node-sqlite3's API its
// sqlite dialect calls, over better-sqlite3 connections that live in worker threads.
//
// Why: with node-sqlite3 every connection's statements run on libuv's thread pool, but the main
// thread finalizes them, under the connection's mutex. A worker waiting in SQLite's busy handler
// for another connection's write lock holds that mutex, so the whole process stopped answering
// for up to the busy timeout. Here the main thread never calls into SQLite through Sequelize (its
// only connection is hot-reader.ts's, for bounded reads that never wait), and one process never
// contends with itself for the lock:
//
// - one writer thread holds the only connection that writes. Every write, autocommit or in a
//   transaction, queues for it; while a transaction is open only that transaction's statements
//   run, and the others wait in this queue (in JavaScript, not in SQLite's busy handler);
// - reader threads answer the SELECTs made outside a transaction (WAL: readers never wait for the
//   writer), so a long search does not hold up a save, nor a save a list;
// - waiting for other processes on the same file (the CLI, the other workers of a cluster: WORKERS)
//   is left to the writer thread, which tries the lock again every quarter of a millisecond up to
//   the busy timeout (sqlite-worker.cjs): it blocks that thread, never the event loop.
import { createRequire } from "node:module";
import path from "node:path";
import { Worker } from "node:worker_threads";

const requireHere = createRequire(import.meta.url);

/**
 * Statements the readers may answer: SELECTs, including those that start with a common table
 * expression (notes.search's `WITH page AS (...)`); anything else, or a reader's SQLITE_READONLY
 * (a `WITH ... INSERT`, refused by the reader's query_only), goes to the writer.
 */
const READ = /^\s*(?:SELECT|WITH|PRAGMA\s+(?:table_info|index_list|index_info|foreign_key_list)\b)/i;
const READERS = 2;
const BUSY_TIMEOUT_MS = 10_000;

interface Reply {
  id: number;
  rows?: unknown[];
  lastID?: number;
  changes?: number;
  inTransaction?: boolean;
  error?: { message: string; code?: string };
}

type Op = "all" | "run" | "exec";
type Done = (error: Error | null, reply?: Reply) => void;

/** One connection in one worker thread, one statement at a time. */
class Thread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Done>();
  private nextId = 1;
  private failure: Error | null = null;
  /** Set by close(): from then on the worker keeps the process alive until it has exited. */
  private closing = false;

  constructor(filename: string, role: "writer" | "reader") {
    this.worker = new Worker(new URL("./sqlite-worker.cjs", import.meta.url), {
      workerData: { filename, role, modulePath: requireHere.resolve("better-sqlite3"), busyTimeoutMs: lockWait.ms },
    });
    this.worker.unref();
    this.worker.on("message", (reply: Reply) => {
      const done = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      // A reply that arrives after close() must not let the process end before the worker's exit
      // is seen (the CLI then ended with its command unfinished, as if the loop had nothing left).
      if (this.waiting.size === 0 && !this.closing) this.worker.unref();
      done?.(null, reply);
    });
    this.worker.on("error", (error) => this.fail(error));
    this.worker.on("exit", (code) => this.fail(new Error(`the SQLite worker stopped (exit code ${code})`)));
  }

  get load(): number {
    return this.waiting.size;
  }

  send(op: Op, sql: string, params: unknown, done: Done): void {
    if (this.failure) return done(this.failure);
    const id = this.nextId++;
    // A statement in flight keeps the process alive, as a socket to a database server would.
    if (this.waiting.size === 0) this.worker.ref();
    this.waiting.set(id, done);
    this.worker.postMessage({ id, op, sql, params });
  }

  async close(): Promise<void> {
    if (this.failure) return;
    this.failure = new Error("the SQLite connection is closed");
    this.closing = true;
    const exited = new Promise((resolve) => this.worker.once("exit", resolve));
    this.worker.ref();
    this.worker.postMessage({ op: "close" });
    await exited;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const done of this.waiting.values()) done(this.failure);
    this.waiting.clear();
  }
}

interface Job {
  owner: Database;
  op: Op;
  sql: string;
  params: unknown;
  done: Done;
  /** When it joined the writer's queue (performance.now()). */
  queuedAt?: number;
}

/**
 * How long a statement waits for a transaction of another connection to end before it fails with
 * SQLITE_BUSY: SQLite's own rule for a write waiting on another connection's lock (its busy
 * timeout), kept here where one process queues its writes itself, and by the writer thread while
 * another process (another worker, the CLI) holds the file's lock (sqlite-worker.cjs). It is also
 * what ends a write that forgot its transaction inside `db.transaction(work)`, which would
 * otherwise wait for the transaction that waits for it. A setting for the tests only (the threads
 * read it when they start).
 */
export const lockWait = { ms: BUSY_TIMEOUT_MS };

/**
 * The connections of one database file: a writer and its queue, and the readers. Shared by every
 * `Database` Sequelize opens on the file (its default connection and one per transaction).
 */
class Engine {
  private readonly writer: Thread;
  private readonly readers: Thread[];
  private readonly queue: Job[] = [];
  private running = false;
  /** The `Database` whose transaction is open on the writer; only its statements run meanwhile. */
  private holder: Database | null = null;
  /** Set while statements wait behind another connection's transaction: fails those past lockWait. */
  private lockTimer: NodeJS.Timeout | null = null;
  users = 0;

  constructor(filename: string) {
    this.writer = new Thread(filename, "writer");
    const inMemory = filename === ":memory:" || filename === "";
    this.readers = inMemory ? [] : Array.from({ length: READERS }, () => new Thread(filename, "reader"));
  }

  submit(job: Job): void {
    const outsideTransaction = job.owner.uuid === undefined;
    if (outsideTransaction && job.op === "all" && this.readers.length > 0 && READ.test(job.sql)) {
      const reader = this.readers.reduce((a, b) => (b.load < a.load ? b : a));
      reader.send("all", job.sql, job.params, (error, reply) => {
        if (reply?.error?.code?.startsWith("SQLITE_READONLY")) return this.write(job);
        job.done(error, reply);
      });
      return;
    }
    this.write(job);
  }

  /** Ends what `owner` left open (a transaction nobody will finish) when it closes. */
  release(owner: Database): void {
    if (this.holder === owner)
      this.write({ owner, op: "exec", sql: "ROLLBACK", params: undefined, done: () => {} }, true);
  }

  async close(): Promise<void> {
    await Promise.all([this.writer.close(), ...this.readers.map((reader) => reader.close())]);
  }

  private write(job: Job, first = false): void {
    job.queuedAt = performance.now();
    if (first) this.queue.unshift(job);
    else this.queue.push(job);
    this.pump();
    this.watchLockWaits();
  }

  /** Keeps a timer while statements wait behind another connection's transaction, failing those past lockWait. */
  private watchLockWaits(): void {
    const holder = this.holder;
    const waiting = holder ? this.queue.filter((job) => job.owner !== holder) : [];
    if (waiting.length === 0) {
      if (this.lockTimer) clearTimeout(this.lockTimer);
      this.lockTimer = null;
      return;
    }
    if (this.lockTimer) return;
    const oldest = Math.min(...waiting.map((job) => job.queuedAt!));
    this.lockTimer = setTimeout(
      () => {
        this.lockTimer = null;
        const now = performance.now();
        for (const job of [...this.queue]) {
          if (!this.holder || job.owner === this.holder || now - job.queuedAt! < lockWait.ms) continue;
          this.queue.splice(this.queue.indexOf(job), 1);
          job.done(null, {
            id: 0,
            error: {
              message: `database is locked: waited ${lockWait.ms} ms for another connection's transaction`,
              code: "SQLITE_BUSY",
            },
          });
        }
        this.watchLockWaits();
      },
      Math.max(0, oldest + lockWait.ms - performance.now()),
    );
  }

  private pump(): void {
    if (this.running) return;
    const index = this.holder ? this.queue.findIndex((job) => job.owner === this.holder) : 0;
    if (index < 0 || this.queue.length === 0) return;
    const [job] = this.queue.splice(index, 1) as [Job];
    this.running = true;
    this.writer.send(job.op, job.sql, job.params, (error, reply) => {
      this.running = false;
      this.holder = reply?.inTransaction ? job.owner : null;
      job.done(error, reply);
      this.pump();
      this.watchLockWaits();
    });
  }
}

const engines = new Map<string, Engine>();
let memoryDatabases = 0;

function engineFor(filename: string): { key: string; engine: Engine } {
  // Each in-memory database is its own; a file is shared by everything in this process that opens it.
  const key = filename === ":memory:" || filename === "" ? `:memory:${++memoryDatabases}` : path.resolve(filename);
  let engine = engines.get(key);
  if (!engine) {
    engine = new Engine(filename);
    engines.set(key, engine);
  }
  engine.users++;
  return { key, engine };
}

/** What node-sqlite3 calls a `run` callback on; Sequelize reads `lastID` and `changes`, and the class name. */
class Statement {
  constructor(
    readonly lastID: number,
    readonly changes: number,
  ) {}
}
Object.defineProperty(Statement, "name", { value: "Statement" });

type Callback = (this: Statement, error: Error | null, rows?: unknown[]) => void;

function toError(error: { message: string; code?: string }): Error {
  // node-sqlite3's shape, which Sequelize's error mapping reads: the primary code for a busy
  // database, the extended code (SQLITE_CONSTRAINT_UNIQUE, ...) otherwise.
  const code = error.code?.startsWith("SQLITE_BUSY") ? "SQLITE_BUSY" : error.code;
  return Object.assign(new Error(code ? `${code}: ${error.message}` : error.message), { code });
}

/**
 * What Sequelize runs on every connection it opens, so on each transaction's. The threads'
 * connections have foreign keys on from the start (sqlite-worker.cjs), and Sequelize's own
 * `PRAGMA foreign_keys = OFF` (a table rebuild) is always followed by its `= ON`: it is answered
 * here, without a trip to the writer (one of six in an edit that keeps a revision).
 */
const FOREIGN_KEYS_ON = "PRAGMA FOREIGN_KEYS=ON";

/** node-sqlite3's `Database`, as far as Sequelize's sqlite dialect uses it. */
export class Database {
  /** Set by Sequelize on the connection of a transaction. */
  uuid: string | undefined;
  readonly filename: string;
  private readonly key: string;
  private readonly engine: Engine;
  private closed = false;

  constructor(filename: string, _mode?: number, callback?: (error: Error | null) => void) {
    this.filename = filename;
    ({ key: this.key, engine: this.engine } = engineFor(filename));
    if (callback) queueMicrotask(() => callback(null));
  }

  serialize(run?: () => void): void {
    // Statements of one connection already run in order: each waits for the one before.
    run?.();
  }

  configure(): void {}

  run(sql: string, params?: unknown, callback?: Callback): this {
    if (sql === FOREIGN_KEYS_ON) {
      const done = typeof params === "function" ? (params as Callback) : callback;
      if (done) queueMicrotask(() => done.call(new Statement(0, 0), null));
      return this;
    }
    return this.submit("run", sql, params, callback);
  }

  all(sql: string, params?: unknown, callback?: Callback): this {
    return this.submit("all", sql, params, callback);
  }

  exec(sql: string, callback?: (error: Error | null) => void): this {
    return this.submit("exec", sql, undefined, callback);
  }

  close(callback?: (error: Error | null) => void): void {
    if (this.closed) return void callback?.(null);
    this.closed = true;
    this.engine.release(this);
    if (--this.engine.users > 0) return void callback?.(null);
    engines.delete(this.key);
    this.engine.close().then(
      () => callback?.(null),
      (error: Error) => callback?.(error),
    );
  }

  private submit(op: Op, sql: string, params: unknown, callback: Callback | undefined): this {
    if (typeof params === "function") [params, callback] = [undefined, params as Callback];
    const done: Done = (error, reply) => {
      const statement = new Statement(reply?.lastID ?? 0, reply?.changes ?? 0);
      const failure = error ?? (reply?.error ? toError(reply.error) : null);
      callback?.call(statement, failure, failure ? undefined : reply?.rows);
    };
    if (this.closed) {
      done(new Error("SQLITE_MISUSE: the database connection is closed"));
      return this;
    }
    this.engine.submit({ owner: this, op, sql, params, done });
    return this;
  }

  static readonly OPEN_READONLY = 1;
  static readonly OPEN_READWRITE = 2;
  static readonly OPEN_CREATE = 4;
}

/** The module Sequelize loads in place of `sqlite3`. */
export const sqliteDriver = { Database, OPEN_READONLY: 1, OPEN_READWRITE: 2, OPEN_CREATE: 4 };
