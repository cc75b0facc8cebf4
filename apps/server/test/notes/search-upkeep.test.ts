// The upkeep of MySQL/MariaDB's full-text index: InnoDB puts every edited, trashed or deleted
// note's old document id on a list that each full-text statement reads whole, and only OPTIMIZE
// TABLE with the server's innodb_optimize_fulltext_only ON empties it (OFF, OPTIMIZE TABLE would
// rebuild the table). `notebox optimize-search` and the server's sweep empty it when the setting
// allows, leave everything alone and say why when it does not, and search answers as before.
import mysql from "mysql2/promise";
import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import { missing, testDb } from "../support/env";
import { createNote, searchTitles, trashNote, type Note } from "../support/notes";
import { runCli, startServerProcess } from "../support/process";
import { createUser, signIn, startTestServer, type TestServer } from "../support/server";
// eslint-disable-next-line no-restricted-properties -- tests choose their services from the environment
const adminUrl = process.env.TEST_MYSQL_ADMIN_URL;

const WORDS = ["harbour", "lantern", "meadow", "quartz", "saffron", "tundra", "velvet", "walnut"];

describe.runIf(testDb === "mysql")("full-text index upkeep on MySQL/MariaDB", () => {
  /** A server account that may set global variables and read InnoDB's own tables. */
  let admin: mysql.Connection | undefined;
  let saved: { optimize: number; aux: string | null; words: number } | undefined;
  let t: TestServer;
  let client: TestClient;
  let env: Record<string, string>;
  let schema: string;
  let notes: Note[];
  const queries = ["harb", "lantern meadow", "quartz", "velvet walnut", "tun"];
  let before: string[][];

  beforeAll(async () => {
    t = await startTestServer();
    const databaseUrl = t.server.runtime.deps.config.databaseUrl;
    schema = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
    env = { DATA_DIR: t.dataDir, DATABASE_URL: databaseUrl };
    client = await signIn(t, (await createUser(t)).account);
    notes = [];
    for (let i = 0; i < 24; i++) {
      notes.push(
        await createNote(client, {
          title: `${WORDS[i % 8]} ${WORDS[(i + 3) % 8]} ${i}`,
          description: `${WORDS[(i + 1) % 8]} and ${WORDS[(i + 5) % 8]}, note ${i}`,
        }),
      );
    }
    before = await Promise.all(queries.map((q) => searchTitles(client, q)));
    if (adminUrl) {
      admin = await mysql.createConnection(adminUrl);
      const [[row]] = await admin.query<mysql.RowDataPacket[]>(
        `SELECT @@GLOBAL.innodb_optimize_fulltext_only AS optimize_only, @@GLOBAL.innodb_ft_aux_table AS aux,
                @@GLOBAL.innodb_ft_num_word_optimize AS words`,
      );
      saved = {
        optimize: Number(row!.optimize_only),
        aux: (row!.aux as string | null) ?? null,
        words: Number(row!.words),
      };
    }
  });

  afterAll(async () => {
    if (admin && saved) {
      await admin.query("SET GLOBAL innodb_optimize_fulltext_only = ?", [saved.optimize]);
      await admin.query("SET GLOBAL innodb_ft_aux_table = ?", [saved.aux]);
      await admin.query("SET GLOBAL innodb_ft_num_word_optimize = ?", [saved.words]);
    }
    await admin?.end();
    await t.close();
  });

  const setOptimizeOnly = (on: boolean) => admin!.query(`SET GLOBAL innodb_optimize_fulltext_only = ${on ? 1 : 0}`);

  /** The document ids on the notes index's deleted list (InnoDB's view of it, through the admin account). */
  async function listed(): Promise<number> {
    await admin!.query("SET GLOBAL innodb_ft_aux_table = ?", [`${schema}/notes`]);
    const [[row]] = await admin!.query<mysql.RowDataPacket[]>(
      `SELECT (SELECT COUNT(*) FROM information_schema.INNODB_FT_DELETED)
            + (SELECT COUNT(*) FROM information_schema.INNODB_FT_BEING_DELETED) AS n`,
    );
    return Number(row!.n);
  }

  const trashed = new Set<string>();

  /** Edits the text of every note not in the trash once (each save lists the note's old document id). */
  async function editAll(round: number) {
    for (const [i, note] of notes.entries()) {
      if (trashed.has(note.id)) continue;
      const res = await client.mutation<Note>("notes.update", {
        id: note.id,
        version: note.version,
        description: `${note.description} (round ${round})`,
      });
      expect(res.status).toBe(200);
      notes[i] = res.data;
    }
  }

  it("sends nothing while innodb_optimize_fulltext_only is OFF, and says what to do", async (ctx) => {
    if (!admin) return missing(ctx, "TEST_MYSQL_ADMIN_URL (an account that may set global variables)");
    await editAll(1);
    await trashNote(client, notes[23]!.id);
    trashed.add(notes[23]!.id);
    const listedBefore = await listed();
    expect(listedBefore).toBeGreaterThanOrEqual(25);
    await setOptimizeOnly(false);
    const res = await runCli(["optimize-search"], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/innodb_optimize_fulltext_only is OFF/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    // A rebuilt table would have started a new, empty list.
    expect(await listed()).toBe(listedBefore);
  });

  it("empties the list with `notebox optimize-search`, and search answers as before", async (ctx) => {
    if (!admin) return missing(ctx, "TEST_MYSQL_ADMIN_URL (an account that may set global variables)");
    await editAll(2);
    expect(await listed()).toBeGreaterThanOrEqual(48);
    await setOptimizeOnly(true);
    const res = await runCli(["optimize-search", "--minutes", "1"], env);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Full-text index optimized: \d+ statements in [\d.]+ s; nothing is left to do/);
    expect(await listed()).toBe(0);
    // The trashed note (the 24th, "tundra"…) stays out; the rest are found as before.
    const after = await Promise.all(queries.map((q) => searchTitles(client, q)));
    expect(after).toEqual(before.map((titles) => titles.filter((title) => !title.endsWith(" 23"))));
    expect(after.flat().length).toBeGreaterThan(10);

    const again = await runCli(["optimize-search"], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing is left to do/);
  });

  it("a server empties it from its sweep, which runs as it starts", async (ctx) => {
    if (!admin) return missing(ctx, "TEST_MYSQL_ADMIN_URL (an account that may set global variables)");
    await editAll(3);
    expect(await listed()).toBeGreaterThanOrEqual(23);
    await setOptimizeOnly(true);
    const second = await startServerProcess(env);
    try {
      const deadline = Date.now() + 20_000;
      while ((await listed()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(await listed()).toBe(0);
      expect(second.alive()).toBe(true);
    } finally {
      await second.stop();
    }
  });

  it("ends a pass in as many statements as the index has words to rewrite", async (ctx) => {
    if (!admin) return missing(ctx, "TEST_MYSQL_ADMIN_URL (an account that may set global variables)");
    // A statement rewrites the next innodb_ft_num_word_optimize words of each FULLTEXT index of the
    // table, and the list is emptied only in a statement where every index has just reached its
    // end: two indexes of 3 and 5 statements a pass end together every 15 statements. With the one
    // index, the ~4,900 words below take 5 statements and a 6th ends the pass; an idle one or two
    // end the upkeep.
    await admin.query("SET GLOBAL innodb_ft_num_word_optimize = 1000");
    const word = (n: number) => `zq${n}x`;
    const many: Note[] = [];
    for (let i = 0; i < 60; i++) {
      const words = (from: number, count: number) => Array.from({ length: count }, (_, j) => word(from + j)).join(" ");
      // 20 title words (each indexed twice: in the title and with the text) and 40 of text.
      many.push(await createNote(client, { title: words(i * 60, 20), description: words(i * 60 + 20, 40) }));
    }
    for (const note of many) {
      const res = await client.mutation<Note>("notes.update", {
        id: note.id,
        version: note.version,
        description: `${note.description} zz`,
      });
      expect(res.status).toBe(200);
    }
    expect(await listed()).toBeGreaterThanOrEqual(60);
    await setOptimizeOnly(true);
    const res = await runCli(["optimize-search", "--minutes", "1"], env);
    expect(res.code).toBe(0);
    const statements = Number(/(\d+) statements/.exec(res.stdout)?.[1]);
    expect(res.stdout).toMatch(/nothing is left to do/);
    expect(await listed()).toBe(0);
    // 7 measured (the statement ending the pass was quick enough to count as idle); the previous
    // schema's two indexes took 16.
    expect(statements).toBeGreaterThanOrEqual(6);
    expect(statements).toBeLessThanOrEqual(10);
    expect(await searchTitles(client, word(65))).toEqual([many[1]!.title]);
    expect(await searchTitles(client, word(95))).toEqual([many[1]!.title]);
  });

  it("a server whose database does not allow it warns once and serves on", async (ctx) => {
    if (!admin) return missing(ctx, "TEST_MYSQL_ADMIN_URL (an account that may set global variables)");
    await setOptimizeOnly(false);
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split("\n").filter(Boolean)) {
          lines.push(JSON.parse(line) as { level: number; msg: string });
        }
        done();
      },
    });
    const other = await startTestServer({ logger: pino({ level: "warn" }, sink) });
    try {
      const deadline = Date.now() + 10_000;
      const warning = () => lines.filter((l) => /innodb_optimize_fulltext_only is OFF/.test(l.msg));
      while (warning().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(warning()).toHaveLength(1);
      expect(warning()[0]!.level).toBe(40);
      expect((await fetch(`${other.url}/readyz`)).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe.runIf(testDb === "sqlite")("full-text index upkeep on SQLite", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it("has nothing to do: FTS5 merges its deletions as it goes", async () => {
    const res = await runCli(["optimize-search"], {
      DATA_DIR: t.dataDir,
      DATABASE_URL: t.server.runtime.deps.config.databaseUrl,
    });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/nothing to do/);
  });

  it("refuses a bad --minutes with the usage", async () => {
    const res = await runCli(["optimize-search", "--minutes", "soon"], {
      DATA_DIR: t.dataDir,
      DATABASE_URL: t.server.runtime.deps.config.databaseUrl,
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--minutes takes a number/);
    expect(res.stderr).toMatch(/Usage: notebox/);
  });
});
