// Plain rows for the hottest paths (a page of notes, one note, one file, a session): hand-written
// SQL through Sequelize's own connections, without building queries from options or model
// instances from rows, which cost several times the query itself (bench/list). The models stay
// for the schema, the migrations and everything that is not hot.
//
// SQL is written with `?` placeholders. On SQLite they are bound (outside a transaction straight
// through the driver, inside one as $1, $2… through Sequelize), so the reader and writer threads
// reuse their prepared statements; on MySQL/MariaDB they are escaped into the text (mysql2's text
// protocol, cheaper here than a server-side prepare per call).
import { QueryTypes, type Sequelize, type Transaction } from "sequelize";
import type { Dialect } from "./connection";
import type { HotReader } from "./sqlite/hot-reader";

export interface RowSource {
  sequelize: Sequelize;
  dialect: Dialect;
  /** SQLite on a file: see `selectBounded`. */
  hotReader?: HotReader | null;
}

/** A parameter as the hot paths pass them: dates and booleans are converted for the dialect. */
export type RowParam = string | number | boolean | Date | null;

/** The values of a statement written with `:name` placeholders (see `selectNamed`). */
export type NamedValues = Record<string, RowParam | RowParam[]>;

const numbered = new Map<string, string>();

/** `?` → `$1`, `$2`… once per statement text (the texts are few and fixed). */
function bindForm(sql: string): string {
  let text = numbered.get(sql);
  if (text === undefined) {
    let n = 0;
    text = sql.replace(/\?/g, () => `$${++n}`);
    numbered.set(sql, text);
  }
  return text;
}

/**
 * SQLite keeps dates as text in Sequelize's format ("2026-12-05 10:00:00.000 +00:00"), which sorts
 * and compares as the time does; a bound Date must be written the same way.
 */
function sqliteParam(value: RowParam): string | number | null {
  if (value instanceof Date) return sqliteDate(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  return value;
}

function sqliteDate(date: Date): string {
  return `${utcText(date)} +00:00`;
}

/** MySQL/MariaDB: DATETIME(3) text in UTC (the connection's time zone), milliseconds kept. */
function mysqlParam(value: RowParam): RowParam {
  return value instanceof Date ? utcText(value) : value;
}

/** "2026-12-05 10:00:00.000" */
const utcText = (date: Date) => date.toISOString().replace("T", " ").replace("Z", "");

/**
 * A SELECT written with `:name` placeholders (the search queries, built from parts; an array value
 * stands for a list, for `IN (:name)`), outside a transaction, straight to the driver as
 * `selectRows` does. On SQLite the values are bound rather than written into the text: a query of
 * one shape then has one text, whose prepared statement the reader threads keep (preparing each
 * FTS5 query anew was 5% of their time at 16 clients, bench/search). On MySQL/MariaDB they are
 * escaped into the text by mysql2, without Sequelize's query wrapper.
 */
export function selectNamed<T extends object>(db: RowSource, sql: string, values: NamedValues): Promise<T[]> {
  const sqlite = db.dialect === "sqlite";
  const bind: Record<string, string | number | null> = {};
  const positional: unknown[] = [];
  const text = sql.replace(/:(\w+)/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`no value for :${name}`);
    const value = values[name]!;
    if (!sqlite) {
      positional.push(Array.isArray(value) ? value.map(mysqlParam) : mysqlParam(value));
      return "?";
    }
    if (!Array.isArray(value)) {
      bind[name] = sqliteParam(value);
      return `$${name}`;
    }
    return value.map((element, i) => ((bind[`${name}_${i}`] = sqliteParam(element)), `$${name}_${i}`)).join(", ");
  });
  return sqlite ? sqliteAll<T>(db.sequelize, text, bind) : mysqlSelect<T>(db.sequelize, text, positional);
}

/** The rows of a SELECT, as the driver gives them (see `rowDate` for dates, Number() for BIGINT). */
export function selectRows<T extends object>(
  db: RowSource,
  sql: string,
  params: RowParam[],
  transaction?: Transaction,
): Promise<T[]> {
  if (db.dialect === "sqlite") {
    if (!transaction) return sqliteAll<T>(db.sequelize, sql, params.map(sqliteParam));
    return db.sequelize.query<T>(bindForm(sql), {
      bind: params.map(sqliteParam),
      type: QueryTypes.SELECT,
      raw: true,
      transaction,
    });
  }
  if (!transaction) return mysqlSelect<T>(db.sequelize, sql, params.map(mysqlParam));
  return db.sequelize.query<T>(sql, {
    replacements: params.map(mysqlParam),
    type: QueryTypes.SELECT,
    raw: true,
    transaction,
  });
}

/** A column as mysql2 hands it to a type cast. */
interface CastField {
  type: string;
  string(): string | null;
}
type TypeCast = (field: CastField, next: () => unknown) => unknown;

/** What a connection of Sequelize's mysql2 pool offers: its callback `query`, and its settings. */
interface PooledConnection {
  config: { typeCast: TypeCast };
  query(
    options: { sql: string; values: unknown[]; typeCast: TypeCast },
    done: (error: Error | null, rows: unknown) => void,
  ): void;
}

const fastCasts = new WeakMap<TypeCast, TypeCast>();

/**
 * Sequelize's type cast with its DATETIME rule made cheap: the same Date, read by position from the
 * UTC text (the connection's time zone) instead of through moment-timezone and Date's text parser
 * (2.5% of the process's time under bench/search's 16 clients, whose ranked queries read up to a
 * thousand dates each; notes.get reads eleven). Every other type is cast by Sequelize's own rule.
 */
function withFastDates(sequelizeCast: TypeCast): TypeCast {
  let cast = fastCasts.get(sequelizeCast);
  if (!cast) {
    cast = (field, next) => {
      if (field.type !== "DATETIME") return sequelizeCast(field, next);
      const text = field.string();
      return text === null ? null : rowDate(text);
    };
    fastCasts.set(sequelizeCast, cast);
  }
  return cast;
}

/** What Sequelize's SQLite connection (sqlite/driver.ts's `Database`) offers: node-sqlite3's `all`. */
interface SqliteConnection {
  all(sql: string, params: unknown, done: (error: Error | null, rows?: unknown[]) => void): void;
}

interface ConnectionManager<C> {
  getConnection(options: { type: string }): Promise<C>;
  releaseConnection(connection: C): void;
}

const connectionManager = <C>(sequelize: Sequelize) =>
  (sequelize as unknown as { connectionManager: ConnectionManager<C> }).connectionManager;

/**
 * A SELECT outside a transaction on Sequelize's own SQLite connection, straight to the driver (a
 * reader thread): Sequelize's query() around it formats a stack trace for every statement and
 * copies every row. `?` placeholders with an array, or `$name` with an object.
 */
async function sqliteAll<T>(
  sequelize: Sequelize,
  sql: string,
  params: (string | number | null)[] | Record<string, string | number | null>,
): Promise<T[]> {
  const connection = await connectionManager<SqliteConnection>(sequelize).getConnection({ type: "SELECT" });
  return new Promise<T[]>((resolve, reject) =>
    connection.all(sql, params, (error, rows) => (error ? reject(error) : resolve(rows as T[]))),
  );
}

/**
 * A SELECT on a connection of Sequelize's own pool, straight through mysql2 (its text protocol,
 * with the typeCast Sequelize configured, so dates are Dates as on every other path): the query()
 * wrapper around it cost as much again as the driver (bench/list). Errors keep mysql2's codes,
 * which isDatabaseUnavailable recognizes.
 */
async function mysqlSelect<T>(sequelize: Sequelize, sql: string, values: unknown[]): Promise<T[]> {
  const manager = connectionManager<PooledConnection>(sequelize);
  const connection = await manager.getConnection({ type: "SELECT" });
  try {
    return await new Promise<T[]>((resolve, reject) =>
      connection.query({ sql, values, typeCast: withFastDates(connection.config.typeCast) }, (error, rows) =>
        error ? reject(error) : resolve(rows as T[]),
      ),
    );
  } finally {
    manager.releaseConnection(connection);
  }
}

/**
 * `selectRows` for a read whose cost is bounded by an index (a row by its key, one page of a list):
 * on SQLite it runs on the main thread's read-only connection (sqlite/hot-reader.ts), which costs
 * a fraction of a round trip to a reader thread. Never for a search or a scan.
 */
export function selectBounded<T extends object>(db: RowSource, sql: string, params: RowParam[]): Promise<T[]> {
  const rows = db.hotReader?.all<T>(sql, params.map(sqliteParam));
  return rows ? Promise.resolve(rows) : selectRows<T>(db, sql, params);
}

/**
 * A date column of a plain row: a Date from mysql2, Sequelize's text from SQLite, or MySQL's own
 * text (a date read through a subquery), which names no zone and is UTC as the connection is.
 */
export function rowDate(value: Date | string): Date {
  if (value instanceof Date) return value;
  // "YYYY-MM-DD HH:MM:SS.mmm +00:00" (SQLite) or "YYYY-MM-DD HH:MM:SS.mmm" (MySQL, UTC), read by
  // position, digit by digit (half the cost of slicing out numbers): every signed-in request reads
  // a session's dates, and exports, lists and searches read thousands.
  if ((value.length === 23 || (value.length === 30 && value.endsWith(" +00:00"))) && DIGITS.test(value)) {
    const d = (at: number) => value.charCodeAt(at) - ZERO;
    const two = (at: number) => d(at) * 10 + d(at + 1);
    return new Date(
      Date.UTC(two(0) * 100 + two(2), two(5) - 1, two(8), two(11), two(14), two(17), two(20) * 10 + d(22)),
    );
  }
  const iso = value.replace(" ", "T").replace(" +00:00", "Z");
  return new Date(/(?:Z|[+-]\d\d:\d\d)$/.test(iso) ? iso : `${iso}Z`);
}

const ZERO = 48; // "0"
/** The digits and separators of "YYYY-MM-DD HH:MM:SS.mmm": what rowDate reads by position. */
const DIGITS = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}/;

/** A date column of a plain row as ISO 8601 text: SQLite's text is rewritten, not parsed. */
export function rowIso(value: Date | string): string {
  if (typeof value === "string" && value.length === 30 && value.endsWith(" +00:00")) {
    return `${value.slice(0, 10)}T${value.slice(11, 23)}Z`;
  }
  return rowDate(value).toISOString();
}

/** A nullable date column of a plain row. */
export function rowDateOrNull(value: Date | string | null): Date | null {
  return value === null ? null : rowDate(value);
}

/**
 * Runs an INSERT, UPDATE or DELETE written for the hot paths (same placeholders as `selectRows`);
 * resolves to the number of rows it changed (as a bulk update, Sequelize reads that count on both
 * databases: SQLite's `changes`, MySQL's `affectedRows`).
 */
export async function runStatement(
  db: RowSource,
  sql: string,
  params: RowParam[],
  transaction?: Transaction,
): Promise<number> {
  const changed =
    db.dialect === "sqlite"
      ? await db.sequelize.query(bindForm(sql), {
          bind: params.map(sqliteParam),
          type: QueryTypes.BULKUPDATE,
          transaction,
        })
      : await db.sequelize.query(sql, {
          replacements: params.map(mysqlParam),
          type: QueryTypes.BULKUPDATE,
          transaction,
        });
  return Number(changed);
}
