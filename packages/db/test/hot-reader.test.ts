// The main thread's read-only SQLite connection (src/sqlite/hot-reader.ts) answers the rows
// better-sqlite3's own row objects would be, though it builds them itself from arrays.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HotReader } from "../src/sqlite/hot-reader";

let dir: string;
let writer: BetterSqlite3.Database;
let reader: HotReader;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "notebox-hot-reader-"));
  const file = path.join(dir, "notebox.db");
  writer = new BetterSqlite3(file);
  writer.pragma("journal_mode = WAL");
  writer.exec(`CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, x REAL, s TEXT, b BLOB, z TEXT);
    INSERT INTO t VALUES ('a', 1, 1.5, 'one', x'00ff', NULL), ('b', 2, -0.25, 'two "2"', x'', 'z');`);
  reader = new HotReader(file);
});

afterAll(async () => {
  reader.close();
  writer.close();
  await rm(dir, { recursive: true, force: true });
});

describe("HotReader.all", () => {
  it.each([
    ["every type of column", "SELECT * FROM t ORDER BY id", []],
    ["a row by key", "SELECT id, s, z FROM t WHERE id = ?", ["b"]],
    ["no rows", "SELECT id FROM t WHERE id = ?", ["none"]],
    ["names that need quoting", `SELECT id AS "a ""quoted"" name", n AS "x-y", s AS "été" FROM t`, []],
    ["a name given twice (the last wins)", "SELECT id AS k, s AS k FROM t ORDER BY id", []],
    ["a column named __proto__", `SELECT s AS "__proto__", id FROM t ORDER BY id`, []],
  ])("answers %s as better-sqlite3's row objects", (_, sql, params) => {
    const expected = writer.prepare(sql).all(...params);
    for (let round = 0; round < 2; round++) {
      const rows = reader.all<Record<string, unknown>>(sql, params)!;
      expect(rows).toEqual(expected);
      for (const [i, row] of rows.entries()) {
        expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
        expect(Object.keys(row)).toEqual(Object.keys(expected[i] as object));
      }
    }
  });
});
