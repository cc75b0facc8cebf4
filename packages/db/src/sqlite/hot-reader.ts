// The one exception to "the main thread never calls into SQLite" (driver.ts): the hot paths'
// bounded reads (a session by its key, a note or a file by id, one page of a list by its index)
// run on a read-only connection in the main thread. Each is a few index lookups, well under a
// millisecond, while a round trip to a reader thread (posting the statement, cloning the rows
// back) cost more than the query itself (bench/list: postMessage was 14% of the main thread).
//
// A WAL reader never waits for the writer. It can still meet SQLITE_BUSY in rare moments (another
// process recovering the WAL index): the busy timeout is 0 here, so the main thread never blocks,
// and the caller sends that statement to the reader threads instead. Anything unbounded (search,
// a name filter, exports) always goes to the threads.
import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";

const requireHere = createRequire(import.meta.url);

/** Prepared statements kept, by SQL text: the hot paths have a few dozen texts at most. */
const CACHE_SIZE = 100;

/** A statement that answers rows as arrays, and what turns one into the row object of its columns. */
interface Prepared {
  statement: BetterSqlite3.Statement;
  row: (values: unknown[]) => unknown;
}

/**
 * A function building a statement's row object from its values, written for its columns: an object
 * literal of fixed keys, which V8 builds in one step and with one shape. better-sqlite3 builds each
 * row object key by key through its C++ API, a quarter of a session lookup's cost (the session
 * with its user has 15 columns). The names are the statement's own columns, quoted as JSON (a
 * name given twice, or `__proto__`, ends up as in better-sqlite3's own objects: test/hot-reader).
 */
function rowBuilder(columns: BetterSqlite3.ColumnDefinition[]): (values: unknown[]) => unknown {
  const fields = columns.map((column, i) => `${JSON.stringify(column.name)}: values[${i}]`);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from column names only (above)
  return new Function("values", `return { ${fields.join(", ")} };`) as (values: unknown[]) => unknown;
}

export class HotReader {
  private readonly db: BetterSqlite3.Database;
  private readonly statements = new Map<string, Prepared>();

  constructor(filename: string) {
    const Database = requireHere("better-sqlite3") as typeof BetterSqlite3;
    this.db = new Database(filename, { readonly: true, fileMustExist: true, timeout: 0 });
  }

  /** The rows of a SELECT, or null when SQLite is busy and the statement should go elsewhere. */
  all<T>(sql: string, params: unknown[]): T[] | null {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      const statement = this.db.prepare(sql);
      prepared = { statement: statement.raw(true), row: rowBuilder(statement.columns()) };
      if (this.statements.size >= CACHE_SIZE) this.statements.delete(this.statements.keys().next().value!);
      this.statements.set(sql, prepared);
    }
    try {
      return (prepared.statement.all(...params) as unknown[][]).map(prepared.row) as T[];
    } catch (error) {
      if ((error as { code?: string }).code?.startsWith("SQLITE_BUSY")) return null;
      throw error;
    }
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }
}
