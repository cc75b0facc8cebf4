// Every file route and procedure is scoped to the signed-in owner: another person's file answers
// 404 exactly like one that does not exist, is never listed, counted or changed. Also the list's
// cursor pagination and its literal name filter, and the same for the trash and files in notes:
// another person's trashed files, notes and note files are out of reach.
import { randomBytes } from "node:crypto";
import { Op } from "@notebox/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallResult, TestClient } from "../support/client";
import {
  contentPath,
  download,
  drivers,
  eventually,
  fileForm,
  sha256,
  startFilesServer,
  storedKeys,
  temporaries,
  upload,
  uploadOne,
  type FileRecord,
  type FilesServer,
  type Page,
} from "../support/files";
import { createNote, trashNote, type Note } from "../support/notes";
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

  describe("another person's trash and notes", () => {
    let owner: TestClient;
    let ownerId: string;
    let other: TestClient;
    let otherId: string;
    let ownerNote: Note;
    let ownerBinnedNote: Note;
    let ownerFiles: Record<"inNote" | "trashed" | "withBinnedNote" | "loose", FileRecord>;
    let otherNote: Note;
    let otherFile: FileRecord;

    /** POST /api/v1/files?noteId=… as `client`. */
    const uploadToNote = (client: TestClient, noteId: string, name: string, bytes: string | Uint8Array) =>
      client.fetch(`/api/v1/files?noteId=${encodeURIComponent(noteId)}`, {
        method: "POST",
        body: fileForm([{ name, bytes }]),
      });

    beforeAll(async () => {
      const o = await createUser(t);
      const x = await createUser(t);
      [owner, ownerId, other, otherId] = [await signIn(t, o.account), o.user.id, await signIn(t, x.account), x.user.id];
      ownerNote = await createNote(owner, { title: "Owner's live note" });
      ownerBinnedNote = await createNote(owner, { title: "Owner's binned note" });
      const upload1 = await uploadToNote(owner, ownerNote.id, "owner-in-note.pdf", randomBytes(3000));
      const upload2 = await uploadToNote(owner, ownerBinnedNote.id, "owner-with-binned-note.txt", "binned\n");
      if (upload1.status !== 201 || upload2.status !== 201) throw new Error("upload into a note failed");
      const [inNote] = ((await upload1.json()) as { items: FileRecord[] }).items;
      const [withBinnedNote] = ((await upload2.json()) as { items: FileRecord[] }).items;
      const trashed = await uploadOne(owner, "owner-trashed-secret.txt", "trashed on its own\n");
      const loose = await uploadOne(owner, "owner-loose-secret.txt", "loose\n");
      await owner.mutation("files.delete", { id: trashed.id });
      await trashNote(owner, ownerBinnedNote.id);
      ownerFiles = { inNote: inNote!, trashed, withBinnedNote: withBinnedNote!, loose };

      otherNote = await createNote(other, { title: "Other's note" });
      otherFile = await uploadOne(other, "other-own.txt", "other's own file\n");
      const otherTrashed = await uploadOne(other, "other-trashed.txt", "other's trashed file\n");
      await other.mutation("files.delete", { id: otherTrashed.id });
    });

    /** Every row and stored byte of the owner's, and their notes: what a refused call must not change. */
    async function ownerState() {
      const files = await t.models.File.findAll({ where: { ownerId }, order: [["id", "ASC"]], raw: true });
      const notes = await t.models.Note.findAll({ where: { ownerId }, order: [["id", "ASC"]], raw: true });
      const keys = await storedKeys(t.storage, `${ownerId}/`);
      return JSON.parse(JSON.stringify({ files, notes, keys })) as unknown;
    }
    async function otherState() {
      const files = await t.models.File.findAll({ where: { ownerId: otherId }, order: [["id", "ASC"]], raw: true });
      return JSON.parse(JSON.stringify({ files, keys: await storedKeys(t.storage, `${otherId}/`) })) as unknown;
    }

    const fileIds = () => Object.entries(ownerFiles).map(([label, f]) => [label, f.id] as const);
    const noteIds = () => [
      ["live note", ownerNote.id],
      ["note in the trash", ownerBinnedNote.id],
    ];

    const byFileId: [string, (id: string) => Promise<CallResult>][] = [
      ["files.restore", (id) => other.mutation("files.restore", { id })],
      ["files.trash.purge", (id) => other.mutation("files.trash.purge", { id })],
      ["files.attach to the caller's note", (id) => other.mutation("files.attach", { id, noteId: otherNote.id })],
      ["files.attach with null", (id) => other.mutation("files.attach", { id, noteId: null })],
    ];
    it.each(byFileId)(
      "answers NOT_FOUND to %s with any of the owner's file ids, like a file that does not exist",
      async (_label, call) => {
        const before = await ownerState();
        const nobodys = await call(NOBODY);
        expect(nobodys.status).toBe(404);
        for (const [label, id] of fileIds()) {
          const theirs = await call(id);
          expect(theirs.status, label).toBe(404);
          expect(theirs.error!.data.code, label).toBe("NOT_FOUND");
          expect(theirs.error, label).toEqual(nobodys.error);
        }
        expect(await ownerState()).toEqual(before);
      },
    );

    const byNoteId: [string, (noteId: string) => Promise<CallResult>][] = [
      [
        "files.attach of the caller's own file",
        (noteId) => other.mutation("files.attach", { id: otherFile.id, noteId }),
      ],
      ["files.list", (noteId) => other.query("files.list", { noteId })],
      ["files.list with a search", (noteId) => other.query("files.list", { noteId, q: "owner" })],
    ];
    it.each(byNoteId)(
      "answers NOT_FOUND to %s with the owner's note ids, like a note that does not exist",
      async (_label, call) => {
        const [before, otherBefore] = [await ownerState(), await otherState()];
        const nobodys = await call(NOBODY);
        expect(nobodys.status).toBe(404);
        for (const [label, noteId] of noteIds()) {
          const theirs = await call(noteId!);
          expect(theirs.status, label).toBe(404);
          expect(theirs.error!.data.code, label).toBe("NOT_FOUND");
          expect(theirs.error, label).toEqual(nobodys.error);
        }
        expect(await ownerState()).toEqual(before);
        expect(await otherState()).toEqual(otherBefore);
        expect((await t.models.File.findByPk(otherFile.id))!.noteId).toBeNull();
      },
    );

    it("answers 404 to an upload into the owner's notes and stores nothing for anyone", async () => {
      const [before, otherBefore] = [await ownerState(), await otherState()];
      const nobodys = await uploadToNote(other, NOBODY, "sneaky.bin", randomBytes(5000));
      expect(nobodys.status).toBe(404);
      const nobodyBody = await nobodys.text();
      for (const [label, noteId] of noteIds()) {
        const res = await uploadToNote(other, noteId!, "sneaky.bin", randomBytes(5000));
        expect(res.status, label).toBe(404);
        expect(await res.text(), label).toBe(nobodyBody);
      }
      expect(await ownerState()).toEqual(before);
      expect(await otherState()).toEqual(otherBefore);
      await eventually(async () => expect(await temporaries(t)).toEqual([]));
    });

    it("never shows the owner's trashed files in the other person's trash, with or without a search", async () => {
      const expected = (
        await t.models.File.findAll({ where: { ownerId: otherId, deletedAt: { [Op.ne]: null } }, raw: true })
      ).map((f) => f.id);
      expect(expected).toHaveLength(1);
      const trash = await other.query<Page<FileRecord>>("files.trash.list", { limit: 100 });
      expect(trash.data.items.map((f) => f.id)).toEqual(expected);
      for (const q of ["owner", "secret", "trashed", "binned", "txt", "%", "_"]) {
        const res = await other.query<Page<FileRecord>>("files.trash.list", { q, limit: 100 });
        expect(res.status, q).toBe(200);
        for (const f of Object.values(ownerFiles))
          expect(
            res.data.items.map((i) => i.id),
            q,
          ).not.toContain(f.id);
      }
      // Nor the owner's live files in the other's list.
      const listed = (await listAll(other)).flat().map((f) => f.id);
      for (const f of Object.values(ownerFiles)) expect(listed).not.toContain(f.id);
    });

    it("empties only the caller's trash", async () => {
      const before = await ownerState();
      const res = await other.mutation<{ purged: number }>("files.trash.purge");
      expect(res.status).toBe(200);
      expect(res.data).toEqual({ purged: 1 });
      expect(await ownerState()).toEqual(before);
      const ownerTrash = await owner.query<Page<FileRecord>>("files.trash.list", { limit: 100 });
      expect(ownerTrash.data.items.map((f) => f.id).sort()).toEqual(
        [ownerFiles.trashed.id, ownerFiles.withBinnedNote.id].sort(),
      );
      expect((await other.query<Page<FileRecord>>("files.trash.list")).data.items).toEqual([]);
    });

    it("still lets the owner do everything the other person was refused", async () => {
      expect((await owner.query<Page<FileRecord>>("files.list", { noteId: ownerNote.id })).data.items).toEqual([
        ownerFiles.inNote,
      ]);
      const res = await uploadToNote(owner, ownerNote.id, "owner-more.txt", "more\n");
      expect(res.status).toBe(201);
      const attached = await owner.mutation<FileRecord>("files.attach", {
        id: ownerFiles.loose.id,
        noteId: ownerNote.id,
      });
      expect(attached.data.noteId).toBe(ownerNote.id);
      const restored = await owner.mutation<FileRecord>("files.restore", { id: ownerFiles.trashed.id });
      expect(restored.data).toMatchObject({ id: ownerFiles.trashed.id, deletedAt: null });
      expect((await download(owner, ownerFiles.trashed.id)).bytes.toString()).toBe("trashed on its own\n");
      const purged = await owner.mutation("files.trash.purge", { id: ownerFiles.withBinnedNote.id });
      expect(purged.data).toEqual({ purged: 1 });
    });

    it("answers 401 to someone signed out", async () => {
      const anon = t.client();
      expect((await anon.query("files.trash.list")).status).toBe(401);
      expect((await anon.query("files.list", { noteId: ownerNote.id })).status).toBe(401);
      expect((await anon.mutation("files.restore", { id: ownerFiles.trashed.id })).status).toBe(401);
      expect((await anon.mutation("files.trash.purge", { id: ownerFiles.trashed.id })).status).toBe(401);
      expect((await anon.mutation("files.trash.purge")).status).toBe(401);
      expect((await anon.mutation("files.attach", { id: ownerFiles.loose.id, noteId: null })).status).toBe(401);
      expect((await uploadToNote(anon, ownerNote.id, "anon.txt", "anon\n")).status).toBe(401);
    });
  });
});
