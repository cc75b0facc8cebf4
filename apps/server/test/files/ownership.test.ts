// Every file route and procedure is scoped to the signed-in owner: another person's file answers
// 404 exactly like one that does not exist, is never listed, counted or changed. Also the list's
// cursor pagination and its literal name filter.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallResult, TestClient } from "../support/client";
import {
  contentPath,
  download,
  drivers,
  sha256,
  startFilesServer,
  upload,
  uploadOne,
  type FileRecord,
  type FilesServer,
  type Page,
} from "../support/files";
import { createUser, signIn } from "../support/server";

/** Every page of files.list, first to last. */
async function listAll(client: TestClient, input: { limit?: number; q?: string } = {}): Promise<FileRecord[][]> {
  const pages: FileRecord[][] = [];
  let cursor: string | null = null;
  do {
    const res: CallResult<Page<FileRecord>> = await client.query<Page<FileRecord>>("files.list", {
      ...input,
      ...(cursor ? { cursor } : {}),
    });
    if (res.status !== 200) throw new Error(`files.list failed: ${res.status} ${JSON.stringify(res.error)}`);
    pages.push(res.data.items);
    cursor = res.data.nextCursor;
    if (pages.length > 100) throw new Error("files.list never reached its last page");
  } while (cursor);
  return pages;
}

const names = async (client: TestClient, q: string) =>
  (await listAll(client, { q }))
    .flat()
    .map((f) => f.name)
    .sort();

describe.each(drivers)("file ownership (%s storage)", (driver) => {
  let t: FilesServer;
  let a: TestClient;
  let b: TestClient;
  let aFile: FileRecord;
  let aBytes: Buffer;
  let bFile: FileRecord;
  const NOBODY = "01900000-0000-7000-8000-00000000dead";

  beforeAll(async () => {
    t = await startFilesServer(driver);
    a = await signIn(t, (await createUser(t)).account);
    b = await signIn(t, (await createUser(t)).account);
    aBytes = randomBytes(50_000);
    aFile = await uploadOne(a, "a-secret-plans.pdf", aBytes);
    bFile = await uploadOne(b, "b-own-notes.txt", "B's own file\n");
  });
  afterAll(() => t?.close());

  /** A's row and stored bytes, for proving a refused call changed nothing. */
  async function aState() {
    const row = await t.models.File.findByPk(aFile.id, { raw: true });
    const stream = await t.storage.get(row!.storageKey);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return { row: JSON.parse(JSON.stringify(row)) as unknown, bytes: sha256(Buffer.concat(chunks)) };
  }

  describe("another person's file", () => {
    const http: [string, (id: string) => Promise<Response>][] = [
      ["GET content", (id) => b.fetch(contentPath(id))],
      ["GET content inline", (id) => b.fetch(contentPath(id, "?disposition=inline"))],
      ["GET content with a Range", (id) => b.fetch(contentPath(id), { headers: { range: "bytes=0-9" } })],
      [
        "GET content with its ETag",
        (id) => b.fetch(contentPath(id), { headers: { "if-none-match": `"${aFile.sha256}"` } }),
      ],
      ["HEAD content", (id) => b.fetch(contentPath(id), { method: "HEAD" })],
    ];
    it.each(http)("answers 404 to %s, like a file that does not exist", async (_label, call) => {
      const before = await aState();
      const theirs = await call(aFile.id);
      const nobodys = await call(NOBODY);
      expect(theirs.status).toBe(404);
      expect(nobodys.status).toBe(404);
      const [theirBody, nobodyBody] = [await theirs.text(), await nobodys.text()];
      expect(theirBody).toBe(nobodyBody);
      expect(theirBody).not.toContain(aFile.name);
      expect(theirs.headers.get("etag")).toBeNull();
      expect(theirs.headers.get("content-disposition")).toBeNull();
      expect(await aState()).toEqual(before);
    });

    const procedures: [string, (id: string) => Promise<CallResult>][] = [
      ["files.get", (id) => b.query("files.get", { id })],
      ["files.rename", (id) => b.mutation("files.rename", { id, name: "taken-over.txt" })],
      ["files.delete", (id) => b.mutation("files.delete", { id })],
    ];
    it.each(procedures)(
      "answers NOT_FOUND to %s, like a file that does not exist, and changes nothing",
      async (_label, call) => {
        const before = await aState();
        const theirs = await call(aFile.id);
        const nobodys = await call(NOBODY);
        expect(theirs.status).toBe(404);
        expect(theirs.error!.data.code).toBe("NOT_FOUND");
        expect(theirs.error).toEqual(nobodys.error);
        expect(await aState()).toEqual(before);
      },
    );

    it("still serves A everything B was refused", async () => {
      expect((await a.query<FileRecord>("files.get", { id: aFile.id })).data).toEqual(aFile);
      const { res, bytes } = await download(a, aFile.id);
      expect(res.status).toBe(200);
      expect(bytes.equals(aBytes)).toBe(true);
    });

    it("never lists A's files to B, with or without a search", async () => {
      const all = (await listAll(b)).flat();
      expect(all.map((f) => f.id)).toEqual([bFile.id]);
      for (const q of ["secret", "a-", "pdf", "%", "_", "a"]) {
        expect((await listAll(b, { q })).flat().map((f) => f.id)).not.toContain(aFile.id);
      }
    });

    it("counts only the caller's bytes in files.usage", async () => {
      const usageA = await a.query<{ usedBytes: number; quotaBytes: number }>("files.usage");
      const usageB = await b.query<{ usedBytes: number; quotaBytes: number }>("files.usage");
      expect(usageA.data.usedBytes).toBe(aFile.size);
      expect(usageB.data.usedBytes).toBe(bFile.size);
      expect(usageB.data.quotaBytes).toBeGreaterThan(0);
    });

    it("answers 401 to someone signed out", async () => {
      expect((await t.client().fetch(contentPath(aFile.id))).status).toBe(401);
      expect((await t.client().fetch(contentPath(aFile.id), { method: "HEAD" })).status).toBe(401);
      expect((await t.client().query("files.get", { id: aFile.id })).status).toBe(401);
      expect((await t.client().query("files.list")).status).toBe(401);
    });
  });

  describe("files.list", () => {
    let c: TestClient;
    let all: FileRecord[];
    beforeAll(async () => {
      c = await signIn(t, (await createUser(t)).account);
      // Seven in one request (one commit, the same createdAt: the id breaks the tie) and six
      // one by one.
      const together = await upload(
        c,
        [
          "100%_done.txt",
          "100x_done.txt",
          "1000 done.txt",
          "report_2024.txt",
          "report-2024.txt",
          "report 2024.txt",
          "plain.txt",
        ].map((name) => ({ name, bytes: `${name}\n` })),
      );
      const separate: FileRecord[] = [];
      for (const name of ["50% off.txt", "50 off.txt", "under_score.md", "underscore.md", "Ünïcödé.txt", "ÜBER.txt"]) {
        separate.push(await uploadOne(c, name, `${name}\n`));
      }
      all = [...together, ...separate];
    });

    it("lists newest first and walks every file exactly once through the cursor", async () => {
      for (const limit of [1, 3, 5, 50]) {
        const pages = await listAll(c, { limit });
        for (const page of pages) expect(page.length).toBeLessThanOrEqual(limit);
        const seen = pages.flat();
        expect(seen.map((f) => f.id).sort()).toEqual(all.map((f) => f.id).sort());
        expect(new Set(seen.map((f) => f.id)).size).toBe(all.length);
        const order = seen.map((f) => [f.createdAt, f.id].join(" "));
        expect(order).toEqual([...order].sort().reverse());
      }
    });

    it("answers an invalid cursor with 400", async () => {
      const res = await c.query("files.list", { cursor: "not a cursor" });
      expect(res.status).toBe(400);
    });

    const expectNames = async (q: string, expected: string[]) =>
      expect(await names(c, q), q).toEqual([...expected].sort());

    it("filters by a part of the name, matching % and _ literally", async () => {
      await expectNames("%", ["100%_done.txt", "50% off.txt"]);
      await expectNames("100%", ["100%_done.txt"]);
      await expectNames("_", ["100%_done.txt", "100x_done.txt", "report_2024.txt", "under_score.md"]);
      await expectNames("t_2", ["report_2024.txt"]);
      await expectNames("%_", ["100%_done.txt"]);
      await expectNames("!", []);
      await expectNames("report", ["report 2024.txt", "report-2024.txt", "report_2024.txt"]);
      await expectNames("DONE", ["1000 done.txt", "100%_done.txt", "100x_done.txt"]);
      await expectNames("Ünïcö", ["Ünïcödé.txt"]);
      // (Case folding of non-ASCII letters differs: SQLite's LIKE folds ASCII only.)
      await expectNames("nothing like it", []);
    });

    it("pages through a filtered list too", async () => {
      const pages = await listAll(c, { q: "_", limit: 1 });
      expect(
        pages
          .flat()
          .map((f) => f.name)
          .sort(),
      ).toEqual(["100%_done.txt", "100x_done.txt", "report_2024.txt", "under_score.md"].sort());
    });
  });
});
