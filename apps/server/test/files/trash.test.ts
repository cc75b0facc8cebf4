// The files' trash: files.delete moves a file there (unreadable, out of the list, still counted
// against the quota, its bytes kept), files.restore brings it back, files.trash.purge removes the
// row and the stored bytes for good, and the scheduled sweep purges what has been there 30 days.
import { randomBytes } from "node:crypto";
import { purgeOldTrash, sweepStorage } from "@notebox/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallResult, TestClient } from "../support/client";
import { createNote, trashNote } from "../support/notes";
import {
  contentPath,
  download,
  drivers,
  fileForm,
  storedKeys,
  startFilesServer,
  upload,
  uploadOne,
  uploadRaw,
  type FileRecord,
  type FilesServer,
  type Page,
} from "../support/files";
import { createUser, signIn } from "../support/server";

const DAY = 24 * 60 * 60 * 1000;
const NOBODY = "01900000-0000-7000-8000-00000000dead";

describe.each(drivers)("the files' trash (%s storage)", (driver) => {
  let t: FilesServer;

  beforeAll(async () => {
    t = await startFilesServer(driver);
  });
  afterAll(() => t?.close());

  /** A new signed-in person with no files, so lists, trash and usage are theirs alone. */
  async function person() {
    const { user, account } = await createUser(t);
    return { id: user.id, client: await signIn(t, account) };
  }

  const keyOf = async (id: string) => (await t.models.File.findByPk(id))!.storageKey;
  const usage = async (client: TestClient) => (await client.query<{ usedBytes: number }>("files.usage")).data.usedBytes;
  const listed = async (client: TestClient, input: Record<string, unknown> = {}) =>
    (await client.query<Page<FileRecord>>("files.list", { limit: 100, ...input })).data.items.map((f) => f.id);
  const trashed = async (client: TestClient, input: Record<string, unknown> = {}) => {
    const res = await client.query<Page<FileRecord>>("files.trash.list", { limit: 100, ...input });
    expect(res.status).toBe(200);
    return res.data.items.map((f) => f.id);
  };

  /** Every page of the trash, first to last. */
  async function trashPages(client: TestClient, input: { limit?: number; q?: string } = {}) {
    const pages: FileRecord[][] = [];
    let cursor: string | null = null;
    do {
      const res: CallResult<Page<FileRecord>> = await client.query<Page<FileRecord>>("files.trash.list", {
        ...input,
        ...(cursor ? { cursor } : {}),
      });
      expect(res.status).toBe(200);
      pages.push(res.data.items);
      cursor = res.data.nextCursor;
      if (pages.length > 50) throw new Error("files.trash.list never reached its last page");
    } while (cursor);
    return pages;
  }

  /** Sets when files went to the trash, as if it had happened then (and drops the owner's cached lists). */
  async function backdate(ownerId: string, ids: string[], deletedAt: Date) {
    await t.models.File.update({ deletedAt }, { where: { id: ids }, silent: true });
    await t.server.runtime.deps.cache.invalidate("files", ownerId);
  }

  async function trashFile(client: TestClient, id: string): Promise<FileRecord> {
    const res = await client.mutation<FileRecord>("files.delete", { id });
    expect(res.status).toBe(200);
    return res.data;
  }

  describe("files.delete", () => {
    it("returns the record with deletedAt set and keeps the row and the bytes", async () => {
      const p = await person();
      const bytes = randomBytes(20_000);
      const file = await uploadOne(p.client, "binned.bin", bytes);
      expect(file).toMatchObject({ noteId: null, deletedAt: null });
      const key = await keyOf(file.id);
      const before = Date.now();

      const res = await trashFile(p.client, file.id);
      const { deletedAt } = res;
      expect(deletedAt).toEqual(expect.any(String));
      expect(res).toEqual({ ...file, deletedAt });
      expect(Date.parse(deletedAt!)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(deletedAt!)).toBeLessThanOrEqual(Date.now() + 1000);

      const row = await t.models.File.findByPk(file.id);
      expect(row!.deletedAt!.toISOString()).toBe(deletedAt);
      expect(await t.storage.stat(key)).toEqual({ size: 20_000 });
      expect(await storedKeys(t.storage, `${p.id}/`)).toEqual([key]);
    });

    it("makes the file unreadable, unlisted and unchangeable, but still counted in files.usage", async () => {
      const p = await person();
      const [gone, kept] = await upload(p.client, [
        { name: "gone.txt", bytes: "going to the trash\n" },
        { name: "kept.txt", bytes: "staying\n" },
      ]);
      const usageBefore = await usage(p.client);
      expect(usageBefore).toBe(gone!.size + kept!.size);
      await trashFile(p.client, gone!.id);

      expect((await p.client.query("files.get", { id: gone!.id })).status).toBe(404);
      expect((await download(p.client, gone!.id)).res.status).toBe(404);
      expect((await download(p.client, gone!.id, { method: "HEAD" })).res.status).toBe(404);
      expect((await p.client.fetch(contentPath(gone!.id), { headers: { range: "bytes=0-3" } })).status).toBe(404);
      const rename = await p.client.mutation("files.rename", { id: gone!.id, name: "renamed.txt" });
      expect(rename.status).toBe(404);
      expect(rename.error!.data.code).toBe("NOT_FOUND");
      expect((await t.models.File.findByPk(gone!.id))!.name).toBe("gone.txt");
      expect((await p.client.mutation("files.delete", { id: gone!.id })).status).toBe(404);
      expect((await p.client.mutation("files.attach", { id: gone!.id, noteId: null })).status).toBe(404);

      expect(await listed(p.client)).toEqual([kept!.id]);
      expect(await listed(p.client, { q: "gone" })).toEqual([]);
      expect(await usage(p.client)).toBe(usageBefore);
      // The other file is untouched.
      expect((await download(p.client, kept!.id)).bytes.toString()).toBe("staying\n");
    });

    it("answers 404 to an id that does not exist", async () => {
      const p = await person();
      const res = await p.client.mutation("files.delete", { id: NOBODY });
      expect(res.status).toBe(404);
      expect(res.error!.data.code).toBe("NOT_FOUND");
    });
  });

  describe("files.trash.list", () => {
    it("lists only trashed files, most recently trashed first, whatever order they were created in", async () => {
      const p = await person();
      const files = await upload(
        p.client,
        ["one.txt", "two.txt", "three.txt", "four.txt", "live.txt"].map((name) => ({ name, bytes: `${name}\n` })),
      );
      const [one, two, three, four, live] = files as [FileRecord, FileRecord, FileRecord, FileRecord, FileRecord];
      expect(await trashed(p.client)).toEqual([]);
      // Trashed in an order that is neither creation order nor id order.
      for (const f of [three, one, four, two]) {
        await trashFile(p.client, f.id);
        await new Promise((r) => setTimeout(r, 5));
      }
      const res = await p.client.query<Page<FileRecord>>("files.trash.list");
      expect(res.status).toBe(200);
      expect(res.data.items.map((f) => f.id)).toEqual([two.id, four.id, one.id, three.id]);
      expect(res.data.nextCursor).toBeNull();
      expect(res.data.items.every((f) => f.deletedAt !== null)).toBe(true);
      expect(res.data.items.map((f) => f.id)).not.toContain(live.id);
    });

    it("orders by the time of trashing, not by id, and walks every trashed file once through the cursor", async () => {
      const p = await person();
      const files = await upload(
        p.client,
        Array.from({ length: 7 }, (_, i) => ({ name: `page-${i}.txt`, bytes: `${i}\n` })),
      );
      for (const f of files) await trashFile(p.client, f.id);
      // Times that disagree with the ids, two of them equal (the id breaks that tie, larger first).
      const now = Date.now();
      const minutesAgo = [3, 1, 6, 2, 2, 5, 4];
      for (const [i, f] of files.entries()) await backdate(p.id, [f.id], new Date(now - minutesAgo[i]! * 60_000));
      const expected = files
        .map((f, i) => ({ id: f.id, at: now - minutesAgo[i]! * 60_000 }))
        .sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1))
        .map((f) => f.id);
      expect(expected).not.toEqual(files.map((f) => f.id).reverse());

      for (const limit of [1, 2, 3, 50]) {
        const pages = await trashPages(p.client, { limit });
        for (const page of pages) expect(page.length).toBeLessThanOrEqual(limit);
        expect(
          pages.flat().map((f) => f.id),
          `limit ${limit}`,
        ).toEqual(expected);
      }
    });

    it("filters the trash by a part of the name", async () => {
      const p = await person();
      const [report, photo, liveReport] = await upload(p.client, [
        { name: "Report 2024.pdf", bytes: "r\n" },
        { name: "holiday_photo.png", bytes: "p\n" },
        { name: "report live.txt", bytes: "l\n" },
      ]);
      await trashFile(p.client, report!.id);
      await trashFile(p.client, photo!.id);
      expect(await trashed(p.client, { q: "report" })).toEqual([report!.id]);
      expect(await trashed(p.client, { q: "_photo" })).toEqual([photo!.id]);
      expect(await trashed(p.client, { q: "%" })).toEqual([]);
      expect(await trashed(p.client, { q: "nothing like it" })).toEqual([]);
      expect(await listed(p.client, { q: "report" })).toEqual([liveReport!.id]);
    });

    it("answers an invalid cursor with 400", async () => {
      const p = await person();
      expect((await p.client.query("files.trash.list", { cursor: "not a cursor" })).status).toBe(400);
    });
  });

  describe("files.restore", () => {
    it("brings a file back to the list, readable with the same bytes", async () => {
      const p = await person();
      const bytes = randomBytes(30_000);
      const file = await uploadOne(p.client, "back.bin", bytes);
      await trashFile(p.client, file.id);

      const res = await p.client.mutation<FileRecord>("files.restore", { id: file.id });
      expect(res.status).toBe(200);
      expect(res.data).toEqual(file);
      expect((await t.models.File.findByPk(file.id))!.deletedAt).toBeNull();
      expect(await listed(p.client)).toEqual([file.id]);
      expect(await trashed(p.client)).toEqual([]);
      expect((await p.client.query<FileRecord>("files.get", { id: file.id })).data).toEqual(file);
      const { res: got, bytes: back } = await download(p.client, file.id);
      expect(got.status).toBe(200);
      expect(back.equals(bytes)).toBe(true);
      expect(await usage(p.client)).toBe(30_000);
      // And it can be renamed and trashed again.
      expect((await p.client.mutation("files.rename", { id: file.id, name: "again.bin" })).status).toBe(200);
      await trashFile(p.client, file.id);
      expect(await trashed(p.client)).toEqual([file.id]);
    });

    it("answers 404 to a file that is not in the trash: live, restored already, or nonexistent", async () => {
      const p = await person();
      const [live, binned] = await upload(p.client, [
        { name: "live.txt", bytes: "live\n" },
        { name: "binned.txt", bytes: "binned\n" },
      ]);
      await trashFile(p.client, binned!.id);
      expect((await p.client.mutation("files.restore", { id: binned!.id })).status).toBe(200);

      for (const id of [live!.id, binned!.id, NOBODY]) {
        const res = await p.client.mutation("files.restore", { id });
        expect(res.status, id).toBe(404);
        expect(res.error!.data.code).toBe("NOT_FOUND");
      }
      expect((await t.models.File.findByPk(live!.id))!.deletedAt).toBeNull();
    });

    it("keeps the file in its note when the note is in the list", async () => {
      const p = await person();
      const note = await createNote(p.client, { title: "Has a file" });
      const res = await p.client.fetch(`/api/v1/files?noteId=${note.id}`, {
        method: "POST",
        body: fileForm([{ name: "inside.txt", bytes: "in the note\n" }]),
      });
      expect(res.status).toBe(201);
      const [file] = ((await res.json()) as { items: FileRecord[] }).items;
      await trashFile(p.client, file!.id);
      const restored = await p.client.mutation<FileRecord>("files.restore", { id: file!.id });
      expect(restored.data).toMatchObject({ id: file!.id, noteId: note.id, deletedAt: null });
      expect(await listed(p.client, { noteId: note.id })).toEqual([file!.id]);
    });

    it("takes the file out of a note that is gone", async () => {
      const p = await person();
      const file = await uploadOne(p.client, "orphan.txt", "its note went away\n");
      await trashFile(p.client, file.id);
      // A note id nobody has (as left by a note removed without its files).
      await t.models.File.update({ noteId: NOBODY }, { where: { id: file.id }, silent: true });
      await t.server.runtime.deps.cache.invalidate("files", p.id);

      const restored = await p.client.mutation<FileRecord>("files.restore", { id: file.id });
      expect(restored.status).toBe(200);
      expect(restored.data).toMatchObject({ id: file.id, noteId: null, deletedAt: null });
      expect((await t.models.File.findByPk(file.id))!.noteId).toBeNull();
      expect(await listed(p.client)).toEqual([file.id]);
    });

    it("takes the file out of its note when the note is in the trash, so purging the note keeps it", async () => {
      const p = await person();
      const note = await createNote(p.client, { title: "Soon binned" });
      const file = await uploadOne(p.client, "rescued.txt", "rescued\n");
      expect((await p.client.mutation("files.attach", { id: file.id, noteId: note.id })).status).toBe(200);
      await trashNote(p.client, note.id);
      expect(await trashed(p.client)).toEqual([file.id]);

      const restored = await p.client.mutation<FileRecord>("files.restore", { id: file.id });
      expect(restored.status).toBe(200);
      expect(restored.data).toMatchObject({ noteId: null, deletedAt: null });
      const key = await keyOf(file.id);

      expect((await p.client.mutation("notes.trash.purge", { id: note.id })).data).toEqual({ purged: 1 });
      expect(await t.models.File.findByPk(file.id)).not.toBeNull();
      expect(await t.storage.stat(key)).not.toBeNull();
      expect((await download(p.client, file.id)).bytes.toString()).toBe("rescued\n");
    });
  });

  describe("files.trash.purge", () => {
    it("with an id removes that trashed file's row and bytes and lowers the usage", async () => {
      const p = await person();
      const [drop, keep] = await upload(p.client, [
        { name: "drop.bin", bytes: randomBytes(40_000) },
        { name: "keep.bin", bytes: randomBytes(1_000) },
      ]);
      const [dropKey, keepKey] = [await keyOf(drop!.id), await keyOf(keep!.id)];
      await trashFile(p.client, drop!.id);
      await trashFile(p.client, keep!.id);
      expect(await usage(p.client)).toBe(41_000);

      const res = await p.client.mutation<{ purged: number }>("files.trash.purge", { id: drop!.id });
      expect(res.status).toBe(200);
      expect(res.data).toEqual({ purged: 1 });
      expect(await t.models.File.findByPk(drop!.id)).toBeNull();
      expect(await t.storage.stat(dropKey)).toBeNull();
      expect(await storedKeys(t.storage, `${p.id}/`)).toEqual([keepKey]);
      expect(await usage(p.client)).toBe(1_000);
      expect(await trashed(p.client)).toEqual([keep!.id]);

      const again = await p.client.mutation("files.trash.purge", { id: drop!.id });
      expect(again.status).toBe(404);
      expect(again.error!.data.code).toBe("NOT_FOUND");
      expect((await p.client.mutation("files.restore", { id: drop!.id })).status).toBe(404);
    });

    it("with the id of a live file answers 404 and leaves the file alone", async () => {
      const p = await person();
      const file = await uploadOne(p.client, "alive.txt", "alive\n");
      const key = await keyOf(file.id);
      const res = await p.client.mutation("files.trash.purge", { id: file.id });
      expect(res.status).toBe(404);
      expect(res.error!.data.code).toBe("NOT_FOUND");
      expect((await t.models.File.findByPk(file.id))!.deletedAt).toBeNull();
      expect(await t.storage.stat(key)).not.toBeNull();
      expect((await download(p.client, file.id)).bytes.toString()).toBe("alive\n");
      expect((await p.client.mutation("files.trash.purge", { id: NOBODY })).status).toBe(404);
    });

    it("without an id empties the caller's trash and keeps the live files", async () => {
      const p = await person();
      const files = await upload(
        p.client,
        ["a.bin", "b.bin", "c.bin", "live.bin"].map((name, i) => ({ name, bytes: randomBytes(1000 * (i + 1)) })),
      );
      const keys = await Promise.all(files.map((f) => keyOf(f.id)));
      for (const f of files.slice(0, 3)) await trashFile(p.client, f.id);

      const res = await p.client.mutation<{ purged: number }>("files.trash.purge");
      expect(res.status).toBe(200);
      expect(res.data).toEqual({ purged: 3 });
      expect(await t.models.File.count({ where: { ownerId: p.id } })).toBe(1);
      for (const key of keys.slice(0, 3)) expect(await t.storage.stat(key)).toBeNull();
      expect(await storedKeys(t.storage, `${p.id}/`)).toEqual([keys[3]]);
      expect(await usage(p.client)).toBe(4000);
      expect(await trashed(p.client)).toEqual([]);
      expect(await listed(p.client)).toEqual([files[3]!.id]);
      expect((await download(p.client, files[3]!.id)).bytes.length).toBe(4000);

      // Nothing left the second time; an empty input object is the same.
      expect((await p.client.mutation("files.trash.purge")).data).toEqual({ purged: 0 });
      expect((await p.client.mutation("files.trash.purge", {})).data).toEqual({ purged: 0 });
    });
  });

  describe("the quota and the storage sweeper", () => {
    it("counts trashed files against the quota until they are purged", async () => {
      const p = await person();
      await t.models.User.update({ quotaBytes: 10_000 }, { where: { id: p.id } });
      const big = await uploadOne(p.client, "big.bin", randomBytes(8000));
      await trashFile(p.client, big.id);

      const refused = await uploadRaw(p.client, [{ name: "next.bin", bytes: randomBytes(5000) }]);
      expect(refused.status).toBe(413);
      expect(((await refused.json()) as { error: { reason: string } }).error.reason).toBe("quota_exceeded");
      expect(await t.models.File.count({ where: { ownerId: p.id } })).toBe(1);
      expect(await storedKeys(t.storage, `${p.id}/`)).toEqual([await keyOf(big.id)]);

      expect((await p.client.mutation("files.trash.purge", { id: big.id })).data).toEqual({ purged: 1 });
      expect(await usage(p.client)).toBe(0);
      const [accepted] = await upload(p.client, [{ name: "next.bin", bytes: randomBytes(5000) }]);
      expect(accepted!.size).toBe(5000);
    });

    it("keeps the bytes of trashed files: they still have their rows", async () => {
      const p = await person();
      const note = await createNote(p.client, { title: "Sweep" });
      const alone = await uploadOne(p.client, "alone.bin", randomBytes(2000));
      const inNote = await uploadOne(p.client, "in-note.bin", randomBytes(3000));
      await p.client.mutation("files.attach", { id: inNote.id, noteId: note.id });
      await trashFile(p.client, alone.id);
      await trashNote(p.client, note.id);
      const keys = [await keyOf(alone.id), await keyOf(inNote.id)];
      // s3rver lacks ListMultipartUploads; the orphan sweep is what matters here.
      const storage = driver === "s3" ? { ...t.storage, sweepTemporaries: () => Promise.resolve(0) } : t.storage;

      const result = await sweepStorage({ deps: { db: t.server.runtime.deps.db, storage }, graceMs: 0 });

      expect(result.orphans).toBe(0);
      for (const key of keys) expect(await t.storage.stat(key)).not.toBeNull();
      expect((await p.client.mutation("files.restore", { id: alone.id })).status).toBe(200);
      expect((await download(p.client, alone.id)).bytes.length).toBe(2000);
    });
  });

  describe("the scheduled purge", () => {
    it("removes files trashed more than 30 days ago, rows and bytes, and keeps younger ones", async () => {
      const p = await person();
      const [old, young, live] = await upload(p.client, [
        { name: "old.bin", bytes: randomBytes(5000) },
        { name: "young.bin", bytes: randomBytes(3000) },
        { name: "live.bin", bytes: randomBytes(1000) },
      ]);
      const [oldKey, youngKey, liveKey] = [await keyOf(old!.id), await keyOf(young!.id), await keyOf(live!.id)];
      await trashFile(p.client, old!.id);
      await trashFile(p.client, young!.id);
      await backdate(p.id, [old!.id], new Date(Date.now() - 31 * DAY));
      await backdate(p.id, [young!.id], new Date(Date.now() - 29 * DAY));
      expect(await trashed(p.client)).toEqual([young!.id, old!.id]);
      expect(await usage(p.client)).toBe(9000);

      await purgeOldTrash({ deps: t.server.runtime.deps });

      expect(await t.models.File.findByPk(old!.id)).toBeNull();
      expect(await t.storage.stat(oldKey)).toBeNull();
      expect((await t.models.File.findByPk(young!.id))!.deletedAt).not.toBeNull();
      expect(await t.storage.stat(youngKey)).toEqual({ size: 3000 });
      expect(await t.storage.stat(liveKey)).toEqual({ size: 1000 });
      expect(await trashed(p.client)).toEqual([young!.id]);
      expect(await listed(p.client)).toEqual([live!.id]);
      expect(await usage(p.client)).toBe(4000);
      // The young one can still come back.
      expect((await p.client.mutation("files.restore", { id: young!.id })).status).toBe(200);
    });

    it("purges old notes and old files of every owner in one run", async () => {
      const p = await person();
      const q = await person();
      const pNote = await createNote(p.client, { title: "Old note" });
      await trashNote(p.client, pNote.id);
      await t.models.Note.update(
        { deletedAt: new Date(Date.now() - 40 * DAY) },
        { where: { id: pNote.id }, silent: true },
      );
      const qFile = await uploadOne(q.client, "q-old.txt", "old\n");
      const qKey = await keyOf(qFile.id);
      await trashFile(q.client, qFile.id);
      await backdate(q.id, [qFile.id], new Date(Date.now() - 30 * DAY - 60_000));

      const removedNotes = await purgeOldTrash({ deps: t.server.runtime.deps });
      expect(removedNotes).toBeGreaterThanOrEqual(1);
      expect(await t.models.Note.findByPk(pNote.id)).toBeNull();
      expect(await t.models.File.findByPk(qFile.id)).toBeNull();
      expect(await t.storage.stat(qKey)).toBeNull();
      expect(await trashed(q.client)).toEqual([]);
      expect(await usage(q.client)).toBe(0);
    });
  });
});
