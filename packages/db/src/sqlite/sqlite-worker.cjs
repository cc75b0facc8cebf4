// One SQLite connection (better-sqlite3) in a worker thread. The main thread never calls into
// SQLite: it posts {id, op, sql, params} here and gets {id, rows, lastID, changes, inTransaction}
// or {id, error} back. Waiting for another process's write lock (the busy timeout) blocks this
// thread only. Plain CommonJS so that the same file runs from the sources and from the bundle.
"use strict";
const { parentPort, workerData } = require("node:worker_threads");

const Database = require(workerData.modulePath);
const writer = workerData.role === "writer";
const db = new Database(workerData.filename, { timeout: workerData.busyTimeoutMs });
if (writer) {
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  // From here the writer waits for another process's write lock itself (busyWait below); a reader
  // keeps SQLite's busy handler, for the rare moments a WAL reader waits (a WAL index recovery).
  db.pragma("busy_timeout = 0");
} else {
  // A reader that is asked to write fails with SQLITE_READONLY and the main thread sends the
  // statement to the writer instead.
  db.pragma("query_only = ON");
}
db.pragma("foreign_keys = ON");

// Prepared statements by SQL text, least recently used first out: only those with bind
// parameters, whose text repeats. Sequelize writes most values into the SQL itself, and such a
// statement is seldom seen twice; kept in the cache it would outlive V8's young generation, and
// its native memory (which V8 does not see) would wait for a full collection to be freed.
const CACHE_SIZE = 200;
const statements = new Map();
function prepare(sql, params) {
  const bound = params != null && (Array.isArray(params) ? params.length > 0 : Object.keys(params).length > 0);
  if (!bound) return db.prepare(sql);
  let statement = statements.get(sql);
  if (statement) {
    statements.delete(sql);
  } else {
    statement = db.prepare(sql);
    if (statements.size >= CACHE_SIZE) statements.delete(statements.keys().next().value);
  }
  statements.set(sql, statement);
  return statement;
}

// better-sqlite3 binds numbers, strings, bigints, buffers and null; node-sqlite3, which Sequelize
// was written against, also took booleans (as 0/1) and dates (as milliseconds).
function bindable(value) {
  if (value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Date) return value.getTime();
  return value;
}

// Sequelize names bind parameters `$1`, `$name`; better-sqlite3 wants the names without the sigil.
function parameters(params) {
  if (params == null) return [];
  if (Array.isArray(params)) return [params.map(bindable)];
  const named = {};
  for (const key of Object.keys(params)) named[key.replace(/^[$:@]/, "")] = bindable(params[key]);
  return [named];
}

// Another process holding the write lock (another worker of the cluster, or the CLI): SQLite's own
// busy handler sleeps 1, 2, 5, 10 ... up to 100 ms between tries, so under a steady stream of
// writes from two processes a write waited tens of milliseconds after the lock was free again.
// The writer tries again every BUSY_POLL_MS instead (a failed try is one lock call on the file),
// until the same busy timeout. Only a plain SQLITE_BUSY of one statement is tried again, as
// SQLite's handler would be: nothing of the statement has run. An exec is never tried again, since
// its first statements may already have run: it gets SQLite's handler, for that call.
const BUSY_POLL_MS = 0.25;
const pause = new Int32Array(new SharedArrayBuffer(4));

function busyWait(message) {
  const deadline = Date.now() + workerData.busyTimeoutMs;
  for (;;) {
    try {
      return run(message);
    } catch (error) {
      if (!error || error.code !== "SQLITE_BUSY" || Date.now() >= deadline) throw error;
      Atomics.wait(pause, 0, 0, BUSY_POLL_MS);
    }
  }
}

function execWithHandler(sql) {
  db.pragma(`busy_timeout = ${workerData.busyTimeoutMs}`);
  try {
    db.exec(sql);
  } finally {
    db.pragma("busy_timeout = 0");
  }
}

let lastChanges;
function run(message) {
  if (message.op === "exec") {
    if (writer) execWithHandler(message.sql);
    else db.exec(message.sql);
    return { rows: [], lastID: 0, changes: 0 };
  }
  const statement = prepare(message.sql, message.params);
  const args = parameters(message.params);
  if (statement.reader) {
    const rows = statement.all(...args);
    lastChanges ??= db.prepare("SELECT changes() AS changes, last_insert_rowid() AS lastID");
    const { changes, lastID } = lastChanges.get();
    return { rows, lastID, changes };
  }
  const info = statement.run(...args);
  return { rows: [], lastID: Number(info.lastInsertRowid), changes: info.changes };
}

parentPort.on("message", (message) => {
  if (message.op === "close") {
    db.close();
    parentPort.close();
    return;
  }
  let reply;
  try {
    reply = { id: message.id, ...(writer && message.op !== "exec" ? busyWait(message) : run(message)) };
  } catch (error) {
    reply = { id: message.id, error: { message: String(error && error.message), code: error && error.code } };
  }
  reply.inTransaction = db.inTransaction;
  parentPort.postMessage(reply);
});
