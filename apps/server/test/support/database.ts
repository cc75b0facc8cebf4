// A private database per test server: a temporary SQLite file, or a fresh MariaDB/MySQL schema.
import { randomBytes } from "node:crypto";
import path from "node:path";
import mysql from "mysql2/promise";
import { testDb, testMysqlUrl } from "./env";

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(dataDir: string): Promise<TestDatabase> {
  if (testDb === "sqlite") {
    return { url: `sqlite:${path.join(dataDir, "notebox.db")}`, drop: async () => {} };
  }
  const serverUrl = testMysqlUrl;
  if (!serverUrl) throw new Error("TEST_DB=mysql needs TEST_MYSQL_URL");
  const name = `notebox_test_${randomBytes(6).toString("hex")}`;
  const admin = await mysql.createConnection(serverUrl);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const conn = await mysql.createConnection(serverUrl);
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
}
