// `notebox serve` plus bare routes for the benches, each behind the same session check as the app:
// - /bench/bare-notes-list (bench/list.mjs): the same note list as tRPC's notes.list, with the
//   same query, so the two differ only by the tRPC layer;
// - /bench/search-timed and /bench/like-timed (bench/search.mjs): notes.search's own function, and
//   the `LIKE '%term%'` query that answers the same question, each timed around its database work
//   in this process, so that the engines are compared without the HTTP and session costs around them;
// - /bench/gc (bench/memory.mjs): a full garbage collection, then process.memoryUsage(); needs
//   node's `--expose-gc` (`gc: false` in the answer without it);
// - /bench/raw-port: the port of the raw-driver baseline below.
// And, in the same process, the raw-driver baseline (bench/list.mjs): a plain node:http server
// on an ephemeral loopback port (no Hono, no tRPC, no Sequelize, none of @notebox/core) answering
// notes.list, notes.get and notes.create with hand-written SQL through the database driver itself.
// `--no-cache` turns the read caches off, so the routes run their queries on every request;
// `--no-revisions` makes edits keep no history (bench/revisions compares the two).
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type BetterSqlite3 from "better-sqlite3";
import { SESSION_COOKIE } from "@notebox/api";
import { loadConfig } from "@notebox/config";
import { type CoreDeps, listNotes, searchNotes, searchTerms, validateSessionToken } from "@notebox/core";
import { hasOpenTask, newId, noteExcerpt, QueryTypes } from "@notebox/db";
import type { Context } from "hono";
import { cookiesOf } from "./http-rules";
import { createLogger } from "./runtime";
import { startServer } from "./server";

const config = loadConfig();
const logger = createLogger(config);
// Listening before the app is: its database connections open on the first request, once the
// app has migrated the database (and this module has run to its end, defining the statements).
const raw = await startRawBaseline(config.databaseUrl);
const server = await startServer(config, {
  logger,
  cache: { disabled: process.argv.includes("--no-cache") },
  revisions: !process.argv.includes("--no-revisions"),
  extendApp(app, deps) {
    const signedIn = async (c: Context) => {
      const token = cookiesOf(c)[SESSION_COOKIE];
      return token ? ((await validateSessionToken({ deps, token }))?.user.id ?? null) : null;
    };
    const unauthorized = (c: Context) =>
      c.json({ error: { code: "UNAUTHORIZED", message: "Sign in to continue." } }, 401);

    app.get("/bench/bare-notes-list", async (c) => {
      const ownerId = await signedIn(c);
      if (!ownerId) return unauthorized(c);
      const input = { limit: 20 };
      return c.json(await listNotes({ deps, ownerId, ...input }));
    });

    app.get("/bench/search-timed", async (c) => {
      const ownerId = await signedIn(c);
      if (!ownerId) return unauthorized(c);
      const started = performance.now();
      const page = await searchNotes({ deps, ownerId, q: c.req.query("q") ?? "" });
      return c.json({ ms: performance.now() - started, hits: page.items.length });
    });

    app.get("/bench/like-timed", async (c) => {
      const ownerId = await signedIn(c);
      if (!ownerId) return unauthorized(c);
      const started = performance.now();
      const rows = await likeSearch(deps, ownerId, c.req.query("q") ?? "", { ranked: c.req.query("ranked") !== "0" });
      return c.json({ ms: performance.now() - started, hits: rows.length });
    });

    // Loopback only, like every bench route: bench/memory reads RSS after this.
    app.get("/bench/gc", (c) => {
      if (typeof gc !== "function") return c.json({ gc: false, ...process.memoryUsage() });
      // Twice: objects kept alive only by finalizers of the first pass go in the second.
      gc();
      gc();
      return c.json({ gc: true, ...process.memoryUsage() });
    });

    app.get("/bench/raw-port", (c) => c.json({ port: raw.port }));
  },
});
logger.info({ port: server.port, rawPort: raw.port }, "Notebox (bench build) is listening");
const stop = () => void Promise.all([server.close(), raw.close()]).then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);

/**
 * notes.search's first page as `LIKE '%term%'` would find it: the owner's notes outside the trash
 * holding every term in the title or the text, those with more of the terms in the title first,
 * then newest edit first. The ranking needs every match, so the query cannot stop early; the
 * owner's index limits the scan to the owner's notes. `ranked: false` is the cheaper query that
 * drops the ranking: the newest matches, which stops at the 21st. (The terms are letters and
 * digits only, so none is a LIKE wildcard. LIKE finds a term anywhere in a word, and folds neither
 * accents on SQLite nor case outside ASCII: it is the query search replaces, not its equal.)
 */
async function likeSearch(deps: CoreDeps, ownerId: string, q: string, { ranked }: { ranked: boolean }) {
  const terms = searchTerms(q);
  if (terms.length === 0) return [];
  const replacements: Record<string, unknown> = { ownerId };
  terms.forEach((t, i) => (replacements[`t${i}`] = `%${t}%`));
  const anywhere = terms.map((_, i) => `(title LIKE :t${i} OR description LIKE :t${i})`).join(" AND ");
  const inTitle = terms.map((_, i) => `(CASE WHEN title LIKE :t${i} THEN 1 ELSE 0 END)`).join(" + ");
  return deps.db.sequelize.query(
    `SELECT id, title, description, version, created_at, updated_at FROM notes
      WHERE owner_id = :ownerId AND deleted_at IS NULL AND ${anywhere}
      ORDER BY ${ranked ? `${inTitle} DESC,` : ""} updated_at DESC, id DESC LIMIT 21`,
    { replacements, type: QueryTypes.SELECT },
  );
}

// --- The raw-driver baseline -------------------------------------------------------------------
//
// What notes.list, notes.get and notes.create cost with no framework at all: node:http, one
// hand-written statement per step, the driver's own API, JSON.stringify. It answers what the tRPC
// procedures answer (bench/list.mjs checks the answers are equal before timing), so Notebox's
// throughput as a fraction of it is what the whole stack (Hono, tRPC, zod, Sequelize, models,
// caches' bookkeeping) costs. It uses nothing of @notebox/core: it stays the reference however the
// app's own paths change. Only the derived columns of a new note (title key, excerpt, open tasks)
// come from the same pure functions Notebox uses, since they are part of the row, not of a framework.
//
// - GET /notes-list: the session cookie checked with one query (the session joined with its user:
//   not expired; the user verified, not disabled, not being deleted, and the session not older than
//   the user's cut-off, as validateSessionToken and userAcceptsCredential decide), then the first
//   page of notes.list as Sequelize emits it: the pinned notes, then the others, each newest edit
//   first, 20 rows in all (21 read to know whether a next page exists), the text left out.
// - GET /notes-get?id=: the same check, then one note by id and owner, with its text.
// - POST /notes-create ({title, description}): the same check, then one INSERT of the columns
//   Notebox's notes.create writes (no tags: one statement, as Notebox does without tags).
//
// SQLite: better-sqlite3 connections opened on the same database file in this process, one
// read-only for the reads and one for the writes (WAL, synchronous=NORMAL and foreign keys on, as
// Notebox's own connections). better-sqlite3 is synchronous: a query runs on the main thread with no
// hand-over to a worker and no callback, so this is the cheapest way to ask SQLite anything; Notebox
// runs its queries in worker threads so that one slow query never stops the process. The search
// index is kept by SQL triggers, which fire for this INSERT as for Notebox's.
// MariaDB/MySQL: a mysql2 pool made directly from DATABASE_URL, as many connections as Notebox's
// pool (10), prepared statements (`execute`). The search columns are generated by the database,
// so they are written for this INSERT too.

interface RawNoteRow {
  id: string;
  title: string;
  description?: string;
  excerpt: string;
  pinned: number | boolean;
  tags: string | null;
  version: number;
  created_at: string | Date;
  updated_at: string | Date;
  deleted_at: string | Date | null;
}

interface RawBackend {
  /** The signed-in user's id, or null. */
  userOf(sessionId: string): Promise<string | null>;
  /** The owner's notes outside the trash, `pinned` ones, newest edit first, `limit` of them. */
  listPage(ownerId: string, pinned: 0 | 1, limit: number): Promise<RawNoteRow[]>;
  getNote(ownerId: string, id: string): Promise<RawNoteRow | null>;
  insertNote(values: RawNewNote): Promise<void>;
  close(): Promise<void>;
}

interface RawNewNote {
  id: string;
  ownerId: string;
  title: string;
  titleKey: string;
  description: string;
  excerpt: string;
  openTasks: boolean;
  createdAt: Date;
}

/** The columns of a list row, as Sequelize names them for notes.list (all but the text). */
const LIST_COLUMNS =
  "id, owner_id, title, title_key, excerpt, open_tasks, pinned, tags, version, last_revision, revised_at, created_at, updated_at, deleted_at";
const NOTE_COLUMNS =
  "id, owner_id, title, title_key, description, excerpt, open_tasks, pinned, tags, version, last_revision, revised_at, created_at, updated_at, deleted_at";
const SESSION_SQL =
  "SELECT s.user_id AS userId FROM sessions s JOIN users u ON u.id = s.user_id " +
  "WHERE s.id = ? AND s.expires_at > ? AND u.email_verified_at IS NOT NULL AND u.disabled_at IS NULL " +
  "AND u.deletion_started_at IS NULL AND s.created_at >= u.tokens_valid_after";
const listSql = (limit: number) =>
  `SELECT ${LIST_COLUMNS} FROM notes WHERE pinned = ? AND owner_id = ? AND deleted_at IS NULL ` +
  `ORDER BY updated_at DESC, id DESC LIMIT ${limit}`;
const GET_SQL = `SELECT ${NOTE_COLUMNS} FROM notes WHERE id = ? AND owner_id = ?`;
const INSERT_SQL =
  "INSERT INTO notes (id, owner_id, title, title_key, description, excerpt, open_tasks, pinned, version, last_revision, created_at, updated_at) " +
  "VALUES (?, ?, ?, ?, ?, ?, ?, 0, 1, 0, ?, ?)";

/** How Sequelize writes a DATE(3) in SQLite: `2026-12-05 01:56:35.259 +00:00`, which sorts as text. */
const sqliteDate = (d: Date) => `${d.toISOString().slice(0, 23).replace("T", " ")} +00:00`;

async function openRawSqlite(file: string): Promise<RawBackend> {
  const { default: Database } = await import("better-sqlite3");
  const reader = new Database(file, { readonly: true, fileMustExist: true, timeout: 5_000 });
  const writer = new Database(file, { fileMustExist: true, timeout: 5_000 });
  writer.pragma("journal_mode = WAL");
  writer.pragma("synchronous = NORMAL");
  writer.pragma("foreign_keys = ON");
  const session = reader.prepare<[string, string], { userId: string }>(SESSION_SQL);
  const pages = new Map<number, BetterSqlite3.Statement<[number, string], RawNoteRow>>();
  const page = (limit: number) => {
    let statement = pages.get(limit);
    if (!statement) pages.set(limit, (statement = reader.prepare(listSql(limit))));
    return statement;
  };
  const get = reader.prepare<[string, string], RawNoteRow>(GET_SQL);
  const insert = writer.prepare(INSERT_SQL);
  return {
    userOf: (id) => Promise.resolve(session.get(id, sqliteDate(new Date()))?.userId ?? null),
    listPage: (ownerId, pinned, limit) => Promise.resolve(page(limit).all(pinned, ownerId)),
    getNote: (ownerId, id) => Promise.resolve(get.get(id, ownerId) ?? null),
    insertNote: (n) => {
      const at = sqliteDate(n.createdAt);
      insert.run(n.id, n.ownerId, n.title, n.titleKey, n.description, n.excerpt, n.openTasks ? 1 : 0, at, at);
      return Promise.resolve();
    },
    close: () => {
      reader.close();
      writer.close();
      return Promise.resolve();
    },
  };
}

async function openRawMysql(url: string): Promise<RawBackend> {
  const { default: mysql } = await import("mysql2/promise");
  // Sequelize's settings for Notebox's pool: utf8mb4, dates in UTC, 10 connections.
  const pool = mysql.createPool({
    uri: url.replace(/^mariadb:/, "mysql:"),
    connectionLimit: 10,
    charset: "utf8mb4",
    timezone: "Z",
  });
  type Rows<T> = [T[], unknown];
  return {
    userOf: async (id) => {
      const [rows] = (await pool.execute(SESSION_SQL, [id, new Date()])) as unknown as Rows<{ userId: string }>;
      return rows[0]?.userId ?? null;
    },
    listPage: async (ownerId, pinned, limit) =>
      ((await pool.execute(listSql(limit), [pinned, ownerId])) as unknown as Rows<RawNoteRow>)[0],
    getNote: async (ownerId, id) =>
      ((await pool.execute(GET_SQL, [id, ownerId])) as unknown as Rows<RawNoteRow>)[0][0] ?? null,
    insertNote: async (n) => {
      await pool.execute(INSERT_SQL, [
        n.id,
        n.ownerId,
        n.title,
        n.titleKey,
        n.description,
        n.excerpt,
        n.openTasks ? 1 : 0,
        n.createdAt,
        n.createdAt,
      ]);
    },
    close: () => pool.end(),
  };
}

/** An ISO date from a row: a Date from mysql2, Sequelize's SQLite text otherwise. */
function isoOf(value: string | Date): string {
  if (value instanceof Date) return value.toISOString();
  // `2026-12-05 01:56:35.259 +00:00`
  if (value.length === 30 && value.endsWith(" +00:00")) return `${value.slice(0, 10)}T${value.slice(11, 23)}Z`;
  return new Date(value).toISOString();
}

/** A row as the API answers it (packages/core/src/notes/shape.ts), field for field. */
function rawShape(row: RawNoteRow) {
  let tags: string[] = [];
  if (row.tags) {
    const names: unknown = JSON.parse(row.tags);
    if (Array.isArray(names)) tags = names.filter((n): n is string => typeof n === "string");
  }
  return {
    id: row.id,
    title: row.title,
    tags,
    pinned: Boolean(row.pinned),
    version: row.version,
    createdAt: isoOf(row.created_at),
    updatedAt: isoOf(row.updated_at),
    deletedAt: row.deleted_at === null ? null : isoOf(row.deleted_at),
  };
}

/** titleSortKey of packages/db/src/models/notes.ts. */
const rawTitleKey = (title: string) => title.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase().slice(0, 255);

async function startRawBaseline(databaseUrl: string) {
  let backend: Promise<RawBackend> | null = null;
  const open = () =>
    (backend ??= databaseUrl.startsWith("sqlite:")
      ? openRawSqlite(databaseUrl.slice("sqlite:".length).replace(/^\/\/(?=\/)/, ""))
      : openRawMysql(databaseUrl));
  const cookiePrefix = `${SESSION_COOKIE}=`;

  const send = (res: ServerResponse, status: number, value: unknown) => {
    const body = JSON.stringify(value);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  };
  const signedIn = async (req: IncomingMessage, db: RawBackend) => {
    let token = "";
    for (const part of (req.headers.cookie ?? "").split(";")) {
      const cookie = part.trim();
      if (cookie.startsWith(cookiePrefix)) token = cookie.slice(cookiePrefix.length);
    }
    if (!/^[a-z2-7]{32}$/.test(token)) return null;
    return db.userOf(createHash("sha256").update(token, "utf8").digest("hex"));
  };
  const readJson = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const db = await open();
    const q = req.url!.indexOf("?");
    const pathname = q < 0 ? req.url! : req.url!.slice(0, q);
    const ownerId = await signedIn(req, db);
    if (!ownerId) return send(res, 401, { error: { code: "UNAUTHORIZED", message: "Sign in to continue." } });

    if (req.method === "GET" && pathname === "/notes-list") {
      const limit = 20;
      const rows: { row: RawNoteRow; pinned: 0 | 1 }[] = [];
      for (const pinned of [1, 0] as const) {
        for (const row of await db.listPage(ownerId, pinned, limit + 1 - rows.length)) rows.push({ row, pinned });
        if (rows.length > limit) break;
      }
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      const nextCursor =
        rows.length > limit && last
          ? Buffer.from(JSON.stringify({ v: isoOf(last.row.updated_at), id: last.row.id, p: last.pinned })).toString(
              "base64url",
            )
          : null;
      return send(res, 200, {
        items: items.map(({ row }) => ({ ...rawShape(row), excerpt: row.excerpt })),
        nextCursor,
      });
    }

    if (req.method === "GET" && pathname === "/notes-get") {
      const id = new URLSearchParams(req.url!.slice(q + 1)).get("id") ?? "";
      const row = await db.getNote(ownerId, id);
      if (!row) return send(res, 404, { error: { code: "NOT_FOUND", message: "No such note." } });
      return send(res, 200, { ...rawShape(row), description: row.description });
    }

    if (req.method === "POST" && pathname === "/notes-create") {
      const input = (await readJson(req)) as { title?: unknown; description?: unknown };
      const title = typeof input.title === "string" ? input.title.trim() : "";
      const description = typeof input.description === "string" ? input.description : "";
      if (!title || title.length > 200) return send(res, 400, { error: { code: "BAD_REQUEST" } });
      const note: RawNewNote = {
        id: newId(),
        ownerId,
        title,
        titleKey: rawTitleKey(title),
        description,
        excerpt: noteExcerpt(description),
        openTasks: hasOpenTask(description),
        createdAt: new Date(),
      };
      await db.insertNote(note);
      const at = note.createdAt.toISOString();
      return send(res, 200, {
        id: note.id,
        title,
        tags: [],
        pinned: false,
        version: 1,
        createdAt: at,
        updatedAt: at,
        deletedAt: null,
        description,
      });
    }
    return send(res, 404, { error: { code: "NOT_FOUND" } });
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A client that hung up mid-body (autocannon at the end of a run) is no failure of ours.
      if (req.destroyed || (error as { code?: string }).code === "ECONNRESET") return void res.destroy();
      logger.error({ err: error }, "raw baseline request failed");
      if (!res.headersSent) send(res, 500, { error: { code: "INTERNAL_SERVER_ERROR" } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return {
    port: (http.address() as AddressInfo).port,
    close: async () => {
      // Nothing of the baseline is worth waiting for: its keep-alive connections are dropped.
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
      if (backend) await (await backend).close();
    },
  };
}
