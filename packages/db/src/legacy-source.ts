// Reads a database in the original system's schema (users, notes, filedata) for
// `notebox import-legacy`: its own mysql2 connection, read-only, a page of rows at a time and one
// file's bytes at a time.
import mysql, { type Connection, type RowDataPacket } from "mysql2/promise";

export interface LegacyUser {
  id: string;
  username: string;
  email: string;
  /** Plain text: the original system never hashed passwords. */
  password: string;
  role: string;
}

export interface LegacyNote {
  id: string;
  title: string;
  description: string;
  createdAt: Date | null;
}

/** A file's description without its bytes; `fileBytes` reads those. */
export interface LegacyFile {
  id: string;
  filename: string;
  size: number;
  createdAt: Date | null;
}

export interface LegacySource {
  /** host:port/database, without credentials, for messages. */
  readonly label: string;
  users(): Promise<LegacyUser[]>;
  /** The user's notes in pages, in id order. */
  notes(owner: LegacyUser): AsyncIterable<LegacyNote[]>;
  /** The user's files in pages, in id order, without their bytes. */
  files(owner: LegacyUser): AsyncIterable<LegacyFile[]>;
  fileBytes(id: string): Promise<Buffer>;
  /** Notes and files whose `added_by` names no user. */
  unowned(): Promise<{ notes: number; files: number }>;
  close(): Promise<void>;
}

/** The original database cannot be reached or does not have the expected shape. */
export class LegacySourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LegacySourceError";
  }
}

const PAGE_SIZE = 200;

type OwnerColumn = "id" | "username" | "email";
const OWNER_COLUMNS: OwnerColumn[] = ["id", "username", "email"];

const REQUIRED = {
  users: ["id", "username", "email", "password"],
  notes: ["nid", "title", "description", "added_by"],
  filedata: ["fid", "filename", "fdata", "added_by"],
} as const;
type Table = keyof typeof REQUIRED;

/** `mysql://user:pass@host:port/db` (or `mariadb://`) into connection options and a safe label. */
export function parseLegacyUrl(url: string) {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "mysql:" && parsed.protocol !== "mariadb:") return null;
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (!parsed.hostname || !database || database.includes("/")) return null;
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = parsed.port ? Number(parsed.port) : 3306;
  return {
    host,
    port,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
    label: `${parsed.hostname}:${port}/${database}`,
  };
}

function text(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "string") return value;
  return typeof value === "number" || typeof value === "bigint" ? value.toString() : JSON.stringify(value);
}

function dateOf(value: unknown): Date | null {
  const date = value instanceof Date ? value : typeof value === "string" && value ? new Date(value) : null;
  return date && !Number.isNaN(date.getTime()) ? date : null;
}

const quote = (name: string) => `\`${name.replace(/`/g, "``")}\``;

export async function openLegacySource(url: string): Promise<LegacySource> {
  const options = parseLegacyUrl(url);
  if (!options)
    throw new LegacySourceError("The original database must be given as mysql://user:password@host:port/database.");
  const { label, ...connect } = options;

  let connection: Connection;
  try {
    connection = await mysql.createConnection({
      ...connect,
      charset: "utf8mb4",
      timezone: "Z",
      connectTimeout: 10_000,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
  } catch (error) {
    throw new LegacySourceError(`Could not connect to the original database at ${label}: ${(error as Error).message}`);
  }

  try {
    // Dates come back as the UTC instants TIMESTAMP columns hold; DATETIME values are taken as UTC.
    await connection.query("SET SESSION time_zone = '+00:00'");
    // Nothing this reader sends may change the original database.
    await connection.query("SET SESSION TRANSACTION READ ONLY");
    const shape = await readShape(connection, label);
    return createSource(connection, label, shape);
  } catch (error) {
    await connection.end().catch(() => {});
    if (error instanceof LegacySourceError) throw error;
    throw new LegacySourceError(`Could not read the original database at ${label}: ${(error as Error).message}`);
  }
}

interface Shape {
  /** Actual table names (MySQL table names can be case-sensitive). */
  tables: Record<Table, string>;
  /** Which optional columns exist. */
  has: { role: boolean; notesCreatedAt: boolean; filesCreatedAt: boolean };
  /** The users column each table's `added_by` holds. */
  owner: { notes: OwnerColumn; filedata: OwnerColumn };
}

async function readShape(connection: Connection, label: string): Promise<Shape> {
  const [columns] = await connection.query<RowDataPacket[]>(
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = DATABASE() AND LOWER(TABLE_NAME) IN ('users', 'notes', 'filedata')`,
  );
  const tables = {} as Record<Table, string>;
  const columnsOf: Record<string, Set<string>> = {};
  for (const row of columns) {
    const table = text(row.t);
    tables[table.toLowerCase() as Table] = table;
    (columnsOf[table.toLowerCase()] ??= new Set()).add(text(row.c).toLowerCase());
  }
  const missing: string[] = [];
  for (const [table, required] of Object.entries(REQUIRED)) {
    if (!columnsOf[table]) {
      missing.push(`table ${table}`);
      continue;
    }
    for (const column of required) if (!columnsOf[table].has(column)) missing.push(`${table}.${column}`);
  }
  if (missing.length) {
    throw new LegacySourceError(
      `${label} does not look like the original system's database: it lacks ${missing.join(", ")}.`,
    );
  }

  const owner = { notes: "id", filedata: "id" } as Shape["owner"];
  for (const table of ["notes", "filedata"] as const) owner[table] = await ownerColumn(connection, tables, table);
  return {
    tables,
    has: {
      role: columnsOf.users!.has("role"),
      notesCreatedAt: columnsOf.notes!.has("created_at"),
      filesCreatedAt: columnsOf.filedata!.has("created_at"),
    },
    owner,
  };
}

/**
 * Which users column `added_by` refers to: the declared foreign key when there is one, otherwise
 * whichever of id, username and email matches the most rows (id on a tie).
 */
async function ownerColumn(
  connection: Connection,
  tables: Record<Table, string>,
  table: "notes" | "filedata",
): Promise<OwnerColumn> {
  const [keys] = await connection.query<RowDataPacket[]>(
    `SELECT REFERENCED_COLUMN_NAME AS c FROM information_schema.KEY_COLUMN_USAGE
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND LOWER(COLUMN_NAME) = 'added_by' AND REFERENCED_TABLE_NAME = ?`,
    [tables[table], tables.users],
  );
  const declared = text(keys[0]?.c).toLowerCase();
  if (OWNER_COLUMNS.includes(declared as OwnerColumn)) return declared as OwnerColumn;

  let best: OwnerColumn = "id";
  let bestCount = -1;
  for (const column of OWNER_COLUMNS) {
    const [[row]] = await connection.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM ${quote(tables[table])} x WHERE EXISTS
       (SELECT 1 FROM ${quote(tables.users)} u WHERE u.${column} = x.added_by)`,
    );
    const count = Number(row?.n ?? 0);
    if (count > bestCount) {
      best = column;
      bestCount = count;
    }
  }
  return best;
}

function createSource(connection: Connection, label: string, shape: Shape): LegacySource {
  const { tables, has, owner } = shape;
  const users = quote(tables.users);
  const notes = quote(tables.notes);
  const filedata = quote(tables.filedata);
  const ownerValue = (user: LegacyUser, table: "notes" | "filedata") => user[owner[table]];

  /** Keyset pages of `select` rows for one owner, in `idColumn` order. */
  async function* pages(
    select: string,
    table: string,
    idColumn: string,
    ownerParam: string,
  ): AsyncIterable<RowDataPacket[]> {
    let after: unknown = undefined;
    for (;;) {
      const [rows] = await connection.query<RowDataPacket[]>(
        `SELECT ${select} FROM ${table} WHERE added_by = ?${after === undefined ? "" : ` AND ${idColumn} > ?`}
         ORDER BY ${idColumn} LIMIT ${PAGE_SIZE}`,
        after === undefined ? [ownerParam] : [ownerParam, after],
      );
      if (rows.length) yield rows;
      if (rows.length < PAGE_SIZE) return;
      after = rows[rows.length - 1]!.page_key;
    }
  }

  return {
    label,
    async users() {
      const [rows] = await connection.query<RowDataPacket[]>(
        `SELECT id, username, email, password, ${has.role ? "role" : "NULL"} AS role FROM ${users} ORDER BY id`,
      );
      return rows.map((row) => ({
        id: text(row.id),
        username: text(row.username),
        email: text(row.email),
        password: text(row.password),
        role: text(row.role),
      }));
    },
    async *notes(user) {
      const select = `nid AS page_key, nid, title, description, ${has.notesCreatedAt ? "created_at" : "NULL"} AS created_at`;
      for await (const rows of pages(select, notes, "nid", ownerValue(user, "notes"))) {
        yield rows.map((row) => ({
          id: text(row.nid),
          title: text(row.title),
          description: text(row.description),
          createdAt: dateOf(row.created_at),
        }));
      }
    },
    async *files(user) {
      const select = `fid AS page_key, fid, filename, COALESCE(OCTET_LENGTH(fdata), 0) AS size, ${has.filesCreatedAt ? "created_at" : "NULL"} AS created_at`;
      for await (const rows of pages(select, filedata, "fid", ownerValue(user, "filedata"))) {
        yield rows.map((row) => ({
          id: text(row.fid),
          filename: text(row.filename),
          size: Number(row.size),
          createdAt: dateOf(row.created_at),
        }));
      }
    },
    async fileBytes(id) {
      const [[row]] = await connection.query<RowDataPacket[]>(`SELECT fdata FROM ${filedata} WHERE fid = ?`, [id]);
      const data: unknown = row?.fdata;
      if (Buffer.isBuffer(data)) return data;
      return Buffer.from(text(data), "utf8");
    },
    async unowned() {
      const count = async (table: string, column: OwnerColumn) => {
        const [[row]] = await connection.query<RowDataPacket[]>(
          `SELECT COUNT(*) AS n FROM ${table} x WHERE x.added_by IS NULL OR NOT EXISTS
           (SELECT 1 FROM ${users} u WHERE u.${column} = x.added_by)`,
        );
        return Number(row?.n ?? 0);
      };
      return { notes: await count(notes, owner.notes), files: await count(filedata, owner.filedata) };
    },
    async close() {
      await connection.end();
    },
  };
}
