// The hot paths' plain rows (@notebox/db's selectRows) read a date column as the same instant as
// Sequelize's own queries do, on every database: on MariaDB/MySQL their DATETIME cast is Notebox's
// (read by position), not Sequelize's, so the two are compared value for value here.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openDatabase, rowDateOrNull, selectRows, type Database } from "@notebox/db";
import { QueryTypes } from "sequelize";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./support/database";
import { testDb } from "./support/env";

let dataDir: string;
let testDatabase: TestDatabase;
let db: Database;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "notebox-rows-"));
  testDatabase = await createTestDatabase(dataDir);
  db = await openDatabase({ url: testDatabase.url });
});
afterAll(async () => {
  await db?.close();
  await testDatabase?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

const dateColumn = (precise: boolean) => (testDb === "sqlite" ? "TEXT" : precise ? "DATETIME(3)" : "DATETIME");

describe("dates in plain rows", () => {
  it.each([
    ["with milliseconds", true, ["2026-12-06 01:02:03.456", "1970-01-01 00:00:00.000", "2028-02-29 23:59:59.999"]],
    ["without milliseconds", false, ["2026-12-06 01:02:03", "2099-12-31 23:59:59"]],
  ])("read a date column %s as Sequelize reads it, and null as null", async (_, precise, texts) => {
    const table = `row_dates_${precise ? "ms" : "s"}`;
    await db.sequelize.query(`CREATE TABLE ${table} (id INTEGER PRIMARY KEY, at ${dateColumn(precise)} NULL)`);
    // SQLite keeps Sequelize's text form; MariaDB/MySQL the DATETIME, in UTC as the connection is.
    const stored = (text: string) => (testDb === "sqlite" ? `${text}${precise ? "" : ".000"} +00:00` : text);
    for (const [i, text] of [...texts, null].entries()) {
      await db.sequelize.query(`INSERT INTO ${table} (id, at) VALUES (?, ?)`, {
        replacements: [i, text === null ? null : stored(text)],
      });
    }
    const sql = `SELECT id, at FROM ${table} ORDER BY id`;
    const plain = await selectRows<{ id: number; at: Date | string | null }>(db, sql, []);
    const viaSequelize = await db.sequelize.query<{ id: number; at: Date | string | null }>(sql, {
      type: QueryTypes.SELECT,
    });
    if (testDb !== "sqlite") expect(plain.every((r) => r.at === null || r.at instanceof Date)).toBe(true);
    const instants = (rows: typeof plain) => rows.map((r) => rowDateOrNull(r.at)?.toISOString() ?? null);
    expect(instants(plain)).toEqual(instants(viaSequelize));
    expect(instants(plain)).toEqual([...texts.map((t) => `${t.replace(" ", "T")}${precise ? "" : ".000"}Z`), null]);
  });
});
