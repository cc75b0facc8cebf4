import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@notebox/db";
import { createTestDatabase, type TestDatabase } from "./support/database";
import { runCli } from "./support/process";

const cli = runCli;

let dataDir: string;
let db: TestDatabase;
let env: Record<string, string>;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "notebox-cli-"));
  db = await createTestDatabase(dataDir);
  env = { DATA_DIR: dataDir, DATABASE_URL: db.url };
});
afterAll(async () => {
  await db.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("notebox CLI", () => {
  it("migrates a new database and reports it up to date the second time", async () => {
    const first = await cli(["migrate"], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Applied: .*accounts/);
    const second = await cli(["migrate"], env);
    expect(second.stdout).toMatch(/Up to date/);
  });

  it("creates the first administrator from a password on stdin", async () => {
    const res = await cli(
      ["create-admin", "--email", "Boss@Example.test", "--username", "boss", "--password-stdin"],
      env,
      "a long admin passphrase\n",
    );
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Created administrator boss <boss@example.test>/);
    expect(res.stdout).not.toMatch(/passphrase/);
    const database = await openDatabase({ url: db.url });
    try {
      const admin = await database.models.User.findOne({ where: { email: "boss@example.test" } });
      expect(admin?.role).toBe("admin");
      expect(admin?.emailVerifiedAt).not.toBeNull();
      expect(admin?.passwordHash).toMatch(/^\$argon2id\$/);
    } finally {
      await database.close();
    }
  });

  it("refuses a common password and creates nothing", async () => {
    const res = await cli(
      ["create-admin", "--email", "weak@example.test", "--username", "weak", "--password", "iloveyou"],
      env,
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/too common/);
    const database = await openDatabase({ url: db.url });
    try {
      expect(await database.models.User.count({ where: { email: "weak@example.test" } })).toBe(0);
    } finally {
      await database.close();
    }
  });

  it("stops with a message naming the variable when the configuration is wrong", async () => {
    const res = await cli(["migrate"], { ...env, PORT: "not-a-port" });
    expect(res.code).toBe(78);
    expect(res.stderr).toMatch(/PORT: expected a port number/);
    expect(res.stderr).not.toMatch(/ at /);
  });
});
