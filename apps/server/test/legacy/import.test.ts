// `notebox import-legacy`: a database in the original system's shape (users, notes, filedata with
// plain-text passwords) on MariaDB is brought into a Notebox on SQLite or MariaDB through the real
// CLI, then used through the real server: old password once, then a new one is required first.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FileRecord, Page } from "@notebox/core";
import { openDatabase, type Database } from "@notebox/db";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { testMysqlUrl } from "../support/env";
import { download, PNG, sha256 } from "../support/files";
import { runCli } from "../support/process";
import { searchTitles, walkPages, type NoteSummary } from "../support/notes";
import { createUser, signIn, startTestServer, type TestServer } from "../support/server";
import { resetLinkFrom } from "../support/smtp";

const REFUSED = { status: 403, reason: "password_change_required" };

async function refusal(res: Response) {
  const body = (await res.json()) as { error: { code: string; reason: string | null; message: string } };
  return { status: res.status, reason: body.error.reason };
}

describe("an account that must set a new password", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t?.close());

  async function flaggedAccount() {
    const { user, account } = await createUser(t);
    await t.models.User.update({ mustChangePassword: true }, { where: { id: user.id } });
    return { user, account, client: await signIn(t, account) };
  }

  it("may only see who it is, its sessions, change the password and sign out", async () => {
    const { user, client, account } = await flaggedAccount();
    const me = await client.query<{ mustChangePassword: boolean }>("auth.me");
    expect(me.data.mustChangePassword).toBe(true);
    expect((await client.query("auth.sessions.list")).status).toBe(200);

    for (const res of [
      await client.query("notes.list", {}),
      await client.mutation("notes.create", { title: "x", description: "" }),
      await client.query("files.usage"),
      await client.mutation("auth.issueToken"),
      await client.query("auth.apiKeys.list"),
    ]) {
      expect({ status: res.status, reason: res.error?.data.reason }).toEqual(REFUSED);
      expect(res.error?.message).toBe("Set a new password first.");
    }
    expect(await refusal(await client.fetch("/api/v1/notes/export?format=json"))).toEqual(REFUSED);
    expect(await refusal(await client.fetch("/api/v1/files/anything/content"))).toEqual(REFUSED);
    const form = new FormData();
    form.append("file", new Blob(["hello"]), "a.txt");
    expect(await refusal(await client.fetch("/api/v1/files", { method: "POST", body: form }))).toEqual(REFUSED);
    expect(await t.models.Note.count({ where: { ownerId: user.id } })).toBe(0);
    expect(await t.models.File.count({ where: { ownerId: user.id } })).toBe(0);

    const changed = await client.mutation("auth.changePassword", {
      currentPassword: account.password,
      newPassword: "a fresh passphrase 2024",
    });
    expect(changed.status).toBe(200);
    expect((await client.query<{ mustChangePassword: boolean }>("auth.me")).data.mustChangePassword).toBe(false);
    expect((await client.query("notes.list", {})).status).toBe(200);
    expect((await client.mutation("auth.logout")).status).toBe(200);
  });

  it("is let through again after a password reset by email", async () => {
    const { user, account, client } = await flaggedAccount();
    await t.client().mutation("auth.requestPasswordReset", { email: account.email });
    const token = new URL(resetLinkFrom(await t.smtp.waitFor(account.email, /reset/i))).hash.replace("#token=", "");
    expect((await t.client().mutation("auth.resetPassword", { token, password: "reset passphrase 77" })).status).toBe(
      200,
    );
    expect((await t.models.User.findByPk(user.id))?.mustChangePassword).toBe(false);
    // The reset ended the old session; signing in with the new password works without a detour.
    expect((await client.query("auth.me")).data).toBeNull();
    const again = await signIn(t, { email: account.email, password: "reset passphrase 77" });
    expect((await again.query("notes.list", {})).status).toBe(200);
  });
});

describe("import-legacy command line", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "notebox-legacy-cli-"));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it("answers a usage error with exit code 2", async () => {
    const env = { DATA_DIR: dataDir };
    for (const args of [
      ["import-legacy"],
      ["import-legacy", "--from", "postgres://x@y/z"],
      ["import-legacy", "--from", "mysql://u@h/db", "--bogus"],
    ]) {
      const res = await runCli(args, env);
      expect(res.code, args.join(" ")).toBe(2);
      expect(res.stderr).toMatch(/import-legacy --from mysql:\/\//);
    }
  });

  it("answers an unreachable database with exit code 1 and one clear line", async () => {
    const res = await runCli(["import-legacy", "--from", "mysql://someone:secret-pass@127.0.0.1:1/old_notes"], {
      DATA_DIR: dataDir,
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^Could not connect to the original database at 127\.0\.0\.1:1\/old_notes: /);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(res.stderr).not.toMatch(/secret-pass/);
  });
});

// The original system's database is MySQL; CI always sets TEST_MYSQL_URL.
describe.skipIf(!testMysqlUrl)("importing the original system's database", () => {
  const LONG_TITLE = "L".repeat(300);
  const BIG = randomBytes(1024 * 1024);
  const TEXT = "Shopping:\n- flour\n- eggs\n";
  const files = [
    { name: "photo.png", bytes: PNG, type: "image/png" },
    { name: "../list.txt", bytes: Buffer.from(TEXT), type: "text/plain; charset=utf-8", cleaned: "list.txt" },
    { name: "archive.bin", bytes: BIG, type: "application/octet-stream" },
  ];

  let legacyName: string;
  let legacyUrl: string;
  let dataDir: string;
  let noteboxDb: TestDatabase;
  let env: Record<string, string>;
  let server: TestServer | undefined;

  async function legacyConnection() {
    const url = new URL(testMysqlUrl!);
    url.pathname = `/${legacyName}`;
    return mysql.createConnection(url.toString());
  }

  async function counts() {
    const db: Database = await openDatabase({ url: noteboxDb.url, migrate: false });
    try {
      const { User, Note, File, LegacyImport } = db.models;
      return {
        users: await User.count(),
        notes: await Note.count(),
        files: await File.count(),
        mapped: await LegacyImport.count(),
      };
    } finally {
      await db.close();
    }
  }

  beforeAll(async () => {
    legacyName = `notebox_legacy_${randomBytes(6).toString("hex")}`;
    const admin = await mysql.createConnection(testMysqlUrl!);
    await admin.query(`CREATE DATABASE \`${legacyName}\` CHARACTER SET utf8mb4`);
    await admin.end();
    const legacy = await legacyConnection();
    await legacy.query("SET time_zone = '+00:00'");
    // The seed's schema, as the original Flask app created it.
    await legacy.query(`CREATE TABLE users (
      id INT AUTO_INCREMENT PRIMARY KEY, username VARCHAR(100) NOT NULL, email VARCHAR(100) NOT NULL,
      password VARCHAR(100) NOT NULL, role VARCHAR(10) NOT NULL DEFAULT 'user') ENGINE=InnoDB`);
    await legacy.query(`CREATE TABLE notes (
      nid INT AUTO_INCREMENT PRIMARY KEY, title VARCHAR(500), description TEXT, added_by INT,
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, FOREIGN KEY (added_by) REFERENCES users(id)) ENGINE=InnoDB`);
    await legacy.query(`CREATE TABLE filedata (
      fid INT AUTO_INCREMENT PRIMARY KEY, filename VARCHAR(255), fdata LONGBLOB, added_by INT,
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, FOREIGN KEY (added_by) REFERENCES users(id)) ENGINE=InnoDB`);
    await legacy.query("INSERT INTO users (id, username, email, password, role) VALUES ?", [
      [
        [1, "ada", "Ada@Example.test", "ada-old-secret", "admin"],
        [2, "bob", "bob@example.test", "bob's old pw", "user"],
        [3, "bad name!", "bad@example.test", "whatever1", "user"],
        [4, "carol", "CLASH@example.test", "carol-pw-123", "user"],
        [5, "dave", "not-an-address", "dave-pw-123", "user"],
      ],
    ]);
    await legacy.query("INSERT INTO notes (title, description, added_by, created_at) VALUES ?", [
      [
        ["Grocery plan", "Buy zucchini and parsnips on Friday", 2, "2021-03-04 05:06:07"],
        ["", "a note without a title", 2, "2021-03-05 00:00:00"],
        [LONG_TITLE, "long title", 2, "2021-03-06 00:00:00"],
        ["Admin memo", "rotate the backups", 1, "2021-03-07 00:00:00"],
        ["Hidden", "belongs to a skipped user", 3, "2021-03-08 00:00:00"],
      ],
    ]);
    for (const file of files) {
      await legacy.query("INSERT INTO filedata (filename, fdata, added_by) VALUES (?, ?, 2)", [file.name, file.bytes]);
    }
    await legacy.query("INSERT INTO filedata (filename, fdata, added_by) VALUES ('clash.txt', 'x', 4)");
    await legacy.end();
    legacyUrl = new URL(testMysqlUrl!).toString().replace(/\/[^/]*$/, `/${legacyName}`);

    dataDir = await mkdtemp(path.join(os.tmpdir(), "notebox-legacy-"));
    noteboxDb = await createTestDatabase(dataDir);
    env = { DATA_DIR: dataDir, DATABASE_URL: noteboxDb.url };
    // A Notebox account that already has carol's address, in another case.
    const admin2 = await runCli(
      [
        "create-admin",
        "--email",
        "clash@example.test",
        "--username",
        "clasher",
        "--password",
        "an existing passphrase",
      ],
      env,
    );
    expect(admin2.code, admin2.stderr).toBe(0);
  });

  afterAll(async () => {
    await server?.close();
    const admin = await mysql.createConnection(testMysqlUrl!);
    await admin.query(`DROP DATABASE IF EXISTS \`${legacyName}\``);
    await admin.end();
    await noteboxDb?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("counts what it would import on a dry run and writes nothing", async () => {
    const before = await counts();
    const res = await runCli(["import-legacy", "--from", legacyUrl, "--dry-run"], env);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Dry run: nothing was written/);
    expect(res.stdout).toContain("users: 2 to import (1 administrators), 0 already imported, 3 skipped");
    expect(res.stdout).toContain("notes: 4 to import, 0 already imported, 1 skipped");
    const bytes = files.reduce((sum, f) => sum + f.bytes.length, 0);
    expect(res.stdout).toContain(`files: 3 to import (${bytes} bytes), 0 already imported, 1 skipped`);
    expect(await counts()).toEqual(before);
  });

  it("imports users, notes and files, and reports the users it skipped", async () => {
    const res = await runCli(["import-legacy", "--from", legacyUrl], env);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("users: 2 imported (1 administrators), 0 already imported, 3 skipped");
    expect(res.stdout).toContain("notes: 4 imported, 0 already imported, 1 skipped");
    expect(res.stdout).toMatch(/files: 3 imported \(\d+ bytes\), 0 already imported, 1 skipped/);
    expect(res.stdout).toContain('1 empty titles set to "Untitled", 1 titles shortened to 200 characters');
    expect(res.stdout).toMatch(/skipped user 3 "bad name!" <bad@example.test> \(invalid_username\)/);
    expect(res.stdout).toMatch(/skipped user 4 "carol" <CLASH@example.test> \(email_taken\)/);
    expect(res.stdout).toMatch(/skipped user 5 "dave" <not-an-address> \(invalid_email\)/);
    expect(res.stdout).not.toMatch(/ada-old-secret|bob's old pw/);

    const db = await openDatabase({ url: noteboxDb.url, migrate: false });
    try {
      const ada = await db.models.User.findOne({ where: { email: "ada@example.test" } });
      expect(ada?.role).toBe("admin");
      expect(ada?.passwordHash).toMatch(/^\$argon2id\$/);
      expect(ada?.emailVerifiedAt).not.toBeNull();
      expect(Boolean(ada?.mustChangePassword)).toBe(true);
      const clasher = await db.models.User.findOne({ where: { email: "clash@example.test" } });
      expect(clasher?.username).toBe("clasher"); // untouched
      expect(await db.models.User.count({ where: { email: ["bad@example.test", "not-an-address"] } })).toBe(0);
    } finally {
      await db.close();
    }
  });

  it("lets the person in with the old password once, then only after a new one", async () => {
    server = await startTestServer({ env: { DATA_DIR: dataDir, DATABASE_URL: noteboxDb.url } });
    const client = server.client();
    const login = await client.mutation<{ user: { mustChangePassword: boolean; role: string } }>("auth.login", {
      email: "Bob@Example.test",
      password: "bob's old pw",
    });
    expect(login.status).toBe(200);
    expect(login.data.user.mustChangePassword).toBe(true);
    expect((await client.query<{ mustChangePassword: boolean }>("auth.me")).data.mustChangePassword).toBe(true);
    const refused = await client.query("notes.list", {});
    expect({ status: refused.status, reason: refused.error?.data.reason }).toEqual(REFUSED);

    const changed = await client.mutation("auth.changePassword", {
      currentPassword: "bob's old pw",
      newPassword: "bob's brand new passphrase",
    });
    expect(changed.status).toBe(200);
    expect((await client.query<{ mustChangePassword: boolean }>("auth.me")).data.mustChangePassword).toBe(false);

    const notes = (await walkPages<NoteSummary>(client, "notes.list", { sort: "created" })).flat();
    expect(notes.map((n) => n.title).sort()).toEqual(["Grocery plan", "L".repeat(200), "Untitled"].sort());
    const grocery = notes.find((n) => n.title === "Grocery plan")!;
    expect(grocery.createdAt).toBe("2021-03-04T05:06:07.000Z");
    expect(await searchTitles(client, "zucchini")).toEqual(["Grocery plan"]);
    expect(await searchTitles(client, "rotate")).toEqual([]); // ada's note is not bob's

    const list = await client.query<Page<FileRecord>>("files.list", { limit: 100 });
    expect(list.status).toBe(200);
    expect(list.data.items).toHaveLength(files.length);
    for (const file of files) {
      const record = list.data.items.find((r) => r.name === (file.cleaned ?? file.name))!;
      expect(record, file.name).toBeDefined();
      expect(record.size).toBe(file.bytes.length);
      expect(record.contentType).toBe(file.type);
      const { res, bytes } = await download(client, record.id);
      expect(res.status).toBe(200);
      expect(sha256(bytes)).toBe(sha256(file.bytes));
    }
  });

  it("carries the administrator role over, behind the same new-password step", async () => {
    const client = server!.client();
    const login = await client.mutation<{ user: { role: string; mustChangePassword: boolean } }>("auth.login", {
      email: "ada@example.test",
      password: "ada-old-secret",
    });
    expect(login.data.user).toMatchObject({ role: "admin", mustChangePassword: true });
    const refused = await client.query("admin.users.list", {});
    expect({ status: refused.status, reason: refused.error?.data.reason }).toEqual(REFUSED);
  });

  it("creates nothing new when run again", async () => {
    const before = await counts();
    const res = await runCli(["import-legacy", "--from", legacyUrl], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("users: 0 imported (0 administrators), 2 already imported, 3 skipped");
    expect(res.stdout).toContain("notes: 0 imported, 4 already imported, 1 skipped");
    expect(res.stdout).toContain("files: 0 imported (0 bytes), 3 already imported, 1 skipped");
    expect(await counts()).toEqual(before);

    const dry = await runCli(["import-legacy", "--from", legacyUrl, "--dry-run"], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("users: 0 to import (0 administrators), 2 already imported, 3 skipped");
    expect(await counts()).toEqual(before);
  });

  it("picks up a run that stopped part-way: what was not committed is imported, nothing twice", async () => {
    // As if the last note's and the last file's transactions had never committed.
    const db = await openDatabase({ url: noteboxDb.url, migrate: false });
    try {
      const { Note, File, LegacyImport } = db.models;
      const lastOf = async (kind: "note" | "file") =>
        (await LegacyImport.findOne({ where: { kind }, order: [["legacyId", "DESC"]] }))!;
      const note = await lastOf("note");
      await Note.destroy({ where: { id: note.noteboxId } });
      await note.destroy();
      const file = await lastOf("file");
      await File.destroy({ where: { id: file.noteboxId } });
      await file.destroy();
    } finally {
      await db.close();
    }
    const before = await counts();
    const res = await runCli(["import-legacy", "--from", legacyUrl], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("notes: 1 imported, 3 already imported, 1 skipped");
    expect(res.stdout).toMatch(/files: 1 imported \(\d+ bytes\), 2 already imported, 1 skipped/);
    expect(await counts()).toEqual({
      ...before,
      notes: before.notes + 1,
      files: before.files + 1,
      mapped: before.mapped + 2,
    });
  });
});
