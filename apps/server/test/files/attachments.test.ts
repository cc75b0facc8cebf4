// Files inside notes: POST /api/v1/files?noteId= uploads into one of the caller's notes in the
// list, files.attach links or unlinks an existing file, files.list {noteId} shows a note's files.
// A note's files go to the trash with it, come back with it (only those), are removed with it
// however it is purged, and are listed in the JSON export.
import { randomBytes } from "node:crypto";
import { purgeOldTrash } from "@notebox/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import {
  download,
  drivers,
  eventually,
  fileForm,
  multipartBody,
  storedKeys,
  startFilesServer,
  temporaries,
  uploadOne,
  type FileRecord,
  type FilesServer,
  type Page,
  type UploadPart,
} from "../support/files";
import { createNote, trashNote, type Note } from "../support/notes";
import { createUser, signIn } from "../support/server";

const DAY = 24 * 60 * 60 * 1000;
const NOBODY = "01900000-0000-7000-8000-00000000dead";

interface ErrorBody {
  error: { code: string; message: string; reason: string | null };
}

interface ExportedNote {
  id: string;
  title: string;
  attachments: { id: string; name: string }[];
}

describe.each(drivers)("files in notes (%s storage)", (driver) => {
  let t: FilesServer;

  beforeAll(async () => {
    t = await startFilesServer(driver);
  });
  afterAll(() => t?.close());

  /** A new signed-in person with no files or notes. */
  async function person() {
    const { user, account } = await createUser(t);
    return { id: user.id, client: await signIn(t, account) };
  }

  /** POST /api/v1/files?noteId=…; the raw response. */
  const uploadToNoteRaw = (client: TestClient, noteId: string, parts: UploadPart[]) =>
    client.fetch(`/api/v1/files?noteId=${encodeURIComponent(noteId)}`, { method: "POST", body: fileForm(parts) });

  async function uploadToNote(client: TestClient, noteId: string, parts: UploadPart[]): Promise<FileRecord[]> {
    const res = await uploadToNoteRaw(client, noteId, parts);
    const text = await res.text();
    if (res.status !== 201) throw new Error(`upload into a note failed: ${res.status} ${text.slice(0, 300)}`);
    return (JSON.parse(text) as { items: FileRecord[] }).items;
  }

  const keyOf = async (id: string) => (await t.models.File.findByPk(id))!.storageKey;
  const row = async (id: string) => t.models.File.findByPk(id);
  const usage = async (client: TestClient) => (await client.query<{ usedBytes: number }>("files.usage")).data.usedBytes;
  const listed = async (client: TestClient, input: Record<string, unknown> = {}) => {
    const res = await client.query<Page<FileRecord>>("files.list", { limit: 100, ...input });
    expect(res.status, JSON.stringify(res.error)).toBe(200);
    return res.data.items.map((f) => f.id);
  };
  const trashed = async (client: TestClient) =>
    (await client.query<Page<FileRecord>>("files.trash.list", { limit: 100 })).data.items.map((f) => f.id);
  const noteRow = async (id: string) => t.models.Note.findByPk(id);

  /** Every row and stored object of the person, for proving a refusal kept nothing. */
  async function holdings(ownerId: string) {
    const rows = await t.models.File.findAll({ where: { ownerId }, raw: true });
    return {
      rows: JSON.parse(JSON.stringify(rows)) as unknown,
      keys: await storedKeys(t.storage, `${ownerId}/`),
    };
  }

  describe("uploading into a note", () => {
    it("stores the files with the note's id, in files.list and in the note's own list", async () => {
      const p = await person();
      const note = await createNote(p.client, { title: "Trip", description: "tickets attached" });
      const other = await createNote(p.client, { title: "Other" });
      const empty = await createNote(p.client, { title: "No files" });
      const bytes = randomBytes(12_000);
      const [ticket, map] = await uploadToNote(p.client, note.id, [
        { name: "ticket.pdf", bytes },
        { name: "map.txt", bytes: "north\n" },
      ]);
      const [elsewhere] = await uploadToNote(p.client, other.id, [{ name: "other.txt", bytes: "other\n" }]);
      const plain = await uploadOne(p.client, "plain.txt", "no note\n");

      expect(ticket).toMatchObject({ name: "ticket.pdf", size: 12_000, noteId: note.id, deletedAt: null });
      expect(map).toMatchObject({ name: "map.txt", noteId: note.id, deletedAt: null });
      expect(plain.noteId).toBeNull();
      expect((await row(ticket!.id))!.noteId).toBe(note.id);
      expect((await row(elsewhere!.id))!.noteId).toBe(other.id);
      expect(await storedKeys(t.storage, `${p.id}/`)).toHaveLength(4);

      expect((await listed(p.client)).sort()).toEqual([ticket!.id, map!.id, elsewhere!.id, plain.id].sort());
      expect((await listed(p.client, { noteId: note.id })).sort()).toEqual([ticket!.id, map!.id].sort());
      expect(await listed(p.client, { noteId: other.id })).toEqual([elsewhere!.id]);
      expect(await listed(p.client, { noteId: empty.id })).toEqual([]);
      expect(await listed(p.client, { noteId: note.id, q: "map" })).toEqual([map!.id]);

      const got = await p.client.query<FileRecord>("files.get", { id: ticket!.id });
      expect(got.data).toEqual(ticket);
      const { res, bytes: back } = await download(p.client, ticket!.id);
      expect(res.status).toBe(200);
      expect(back.equals(bytes)).toBe(true);
      // Adding files is not an edit of the note.
      expect((await p.client.query<Note>("notes.get", { id: note.id })).data).toEqual(note);
    });

    it("pages through a note's files with the cursor", async () => {
      const p = await person();
      const note = await createNote(p.client, { title: "Many files" });
      const files = await uploadToNote(
        p.client,
        note.id,
        Array.from({ length: 5 }, (_, i) => ({ name: `f${i}.txt`, bytes: `${i}\n` })),
      );
      await uploadOne(p.client, "not-in-note.txt", "x\n");
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: { data: Page<FileRecord> } = await p.client.query<Page<FileRecord>>("files.list", {
          noteId: note.id,
          limit: 2,
          ...(cursor ? { cursor } : {}),
        });
        expect(res.data.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.data.items.map((f) => f.id));
        cursor = res.data.nextCursor;
      } while (cursor && seen.length < 20);
      expect(seen).toEqual(files.map((f) => f.id).reverse());
    });

    it("answers 404 and keeps nothing for a note in the trash, a purged or nonexistent note, and bad ids", async () => {
      const p = await person();
      await uploadOne(p.client, "existing.txt", "already here\n");
      const binned = await createNote(p.client, { title: "Binned" });
      await trashNote(p.client, binned.id);
      const purged = await createNote(p.client, { title: "Purged" });
      await trashNote(p.client, purged.id);
      await p.client.mutation("notes.trash.purge", { id: purged.id });
      const before = await holdings(p.id);

      for (const noteId of [binned.id, purged.id, NOBODY, "", "x".repeat(64), "x".repeat(65), "x".repeat(500)]) {
        const label = `noteId ${JSON.stringify(noteId.slice(0, 40))} (${noteId.length})`;
        const res = await uploadToNoteRaw(p.client, noteId, [{ name: "refused.bin", bytes: randomBytes(8000) }]);
        expect(res.status, label).toBe(404);
        expect(((await res.json()) as ErrorBody).error.code, label).toBe("NOT_FOUND");
        expect(await holdings(p.id), label).toEqual(before);
      }
      await eventually(async () => expect(await temporaries(t)).toEqual([]));
      expect((await t.models.Note.findByPk(binned.id))!.deletedAt).not.toBeNull();
    });

    it("answers 404 and keeps nothing when the note goes to the trash while its file is still arriving", async () => {
      const p = await person();
      const note = await createNote(p.client, { title: "Trashed mid-upload" });
      const before = await holdings(p.id);
      const { body, contentType } = multipartBody([
        { disposition: 'form-data; name="file"; filename="slow.bin"', bytes: randomBytes(64 * 1024) },
      ]);
      const half = Math.floor(body.length / 2);
      let sendRest!: () => void;
      const rest = new Promise<void>((r) => (sendRest = r));
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(body.subarray(0, half));
          await rest;
          controller.enqueue(body.subarray(half));
          controller.close();
        },
      });
      const answer = p.client.fetch(`/api/v1/files?noteId=${note.id}`, {
        method: "POST",
        headers: { "content-type": contentType },
        body: stream,
        duplex: "half",
      });
      // The note is checked when the request starts; by now its first bytes are being stored.
      if (driver === "file") await eventually(async () => expect(await temporaries(t)).not.toEqual([]));
      else await new Promise((r) => setTimeout(r, 300));
      await trashNote(p.client, note.id);
      sendRest();

      const res = await answer;
      expect(res.status).toBe(404);
      expect(((await res.json()) as ErrorBody).error.code).toBe("NOT_FOUND");
      expect(await holdings(p.id)).toEqual(before);
      await eventually(async () => expect(await temporaries(t)).toEqual([]));
      expect(await trashed(p.client)).toEqual([]);
    });

    it("refuses an upload into a note past the quota with 413 and keeps none of its files", async () => {
      const p = await person();
      await t.models.User.update({ quotaBytes: 10_000 }, { where: { id: p.id } });
      const note = await createNote(p.client, { title: "Nearly full" });
      await uploadToNote(p.client, note.id, [{ name: "first.bin", bytes: randomBytes(6000) }]);
      const before = await holdings(p.id);

      // The first part fits in what is left, the second does not: neither is kept.
      const res = await uploadToNoteRaw(p.client, note.id, [
        { name: "fits.bin", bytes: randomBytes(3000) },
        { name: "overflows.bin", bytes: randomBytes(3000) },
      ]);
      expect(res.status).toBe(413);
      const body = (await res.json()) as ErrorBody;
      expect(body.error).toMatchObject({ code: "PAYLOAD_TOO_LARGE", reason: "quota_exceeded" });
      expect(await holdings(p.id)).toEqual(before);
      await eventually(async () => expect(await temporaries(t)).toEqual([]));
      expect(await usage(p.client)).toBe(6000);
      expect(await listed(p.client, { noteId: note.id })).toHaveLength(1);
      // What does fit is still accepted.
      expect(await uploadToNote(p.client, note.id, [{ name: "fits.bin", bytes: randomBytes(4000) }])).toHaveLength(1);
    });
  });

  describe("files.list {noteId}", () => {
    it("answers 404 for a note in the trash or one that does not exist, and lists only the note's live files", async () => {
      const p = await person();
      const note = await createNote(p.client, { title: "Listed" });
      const [keep, bin] = await uploadToNote(p.client, note.id, [
        { name: "keep.txt", bytes: "keep\n" },
        { name: "bin.txt", bytes: "bin\n" },
      ]);
      expect((await p.client.mutation("files.delete", { id: bin!.id })).status).toBe(200);
      expect(await listed(p.client, { noteId: note.id })).toEqual([keep!.id]);

      for (const noteId of [NOBODY, "no-such-note"]) {
        const res = await p.client.query("files.list", { noteId });
        expect(res.status, noteId).toBe(404);
        expect(res.error!.data.code).toBe("NOT_FOUND");
      }
      await trashNote(p.client, note.id);
      const res = await p.client.query("files.list", { noteId: note.id });
      expect(res.status).toBe(404);
      expect(res.error!.data.code).toBe("NOT_FOUND");
      // Back in the list, the note lists its file again.
      expect((await p.client.mutation("notes.restore", { id: note.id })).status).toBe(200);
      expect(await listed(p.client, { noteId: note.id })).toEqual([keep!.id]);
    });
  });

  describe("files.attach", () => {
    it("links a file to a note, moves it to another and unlinks it", async () => {
      const p = await person();
      const first = await createNote(p.client, { title: "First" });
      const second = await createNote(p.client, { title: "Second" });
      const file = await uploadOne(p.client, "loose.txt", "loose\n");

      const linked = await p.client.mutation<FileRecord>("files.attach", { id: file.id, noteId: first.id });
      expect(linked.status).toBe(200);
      expect(linked.data).toMatchObject({ id: file.id, name: "loose.txt", noteId: first.id, deletedAt: null });
      expect((await row(file.id))!.noteId).toBe(first.id);
      expect(await listed(p.client, { noteId: first.id })).toEqual([file.id]);

      const moved = await p.client.mutation<FileRecord>("files.attach", { id: file.id, noteId: second.id });
      expect(moved.data.noteId).toBe(second.id);
      expect(await listed(p.client, { noteId: first.id })).toEqual([]);
      expect(await listed(p.client, { noteId: second.id })).toEqual([file.id]);

      const unlinked = await p.client.mutation<FileRecord>("files.attach", { id: file.id, noteId: null });
      expect(unlinked.status).toBe(200);
      expect(unlinked.data).toMatchObject({ id: file.id, noteId: null, deletedAt: null });
      expect((await row(file.id))!.noteId).toBeNull();
      expect(await listed(p.client, { noteId: second.id })).toEqual([]);
      expect(await listed(p.client)).toEqual([file.id]);
      expect((await download(p.client, file.id)).bytes.toString()).toBe("loose\n");
      // Once unlinked, trashing and purging the note leaves the file alone.
      await trashNote(p.client, second.id);
      expect((await p.client.mutation("notes.trash.purge", { id: second.id })).data).toEqual({ purged: 1 });
      expect(await row(file.id)).not.toBeNull();
      expect(await t.storage.stat(await keyOf(file.id))).not.toBeNull();
    });

    it("answers 404 for a note in the trash or nonexistent, and for a file in the trash or nonexistent", async () => {
      const p = await person();
      const live = await createNote(p.client, { title: "Live" });
      const binned = await createNote(p.client, { title: "Binned" });
      await trashNote(p.client, binned.id);
      const [file, gone] = await uploadToNote(p.client, live.id, [
        { name: "file.txt", bytes: "file\n" },
        { name: "gone.txt", bytes: "gone\n" },
      ]);
      await p.client.mutation("files.delete", { id: gone!.id });
      const before = await holdings(p.id);

      const refused: [string, { id: string; noteId: string | null }][] = [
        ["a note in the trash", { id: file!.id, noteId: binned.id }],
        ["a note that does not exist", { id: file!.id, noteId: NOBODY }],
        ["a file in the trash", { id: gone!.id, noteId: live.id }],
        ["a file in the trash, unlinked", { id: gone!.id, noteId: null }],
        ["a file that does not exist", { id: NOBODY, noteId: live.id }],
      ];
      for (const [label, input] of refused) {
        const res = await p.client.mutation("files.attach", input);
        expect(res.status, label).toBe(404);
        expect(res.error!.data.code, label).toBe("NOT_FOUND");
      }
      expect(await holdings(p.id)).toEqual(before);
    });
  });

  describe("a note's files and the note's trash", () => {
    it("trashing a note trashes its live files with the note's time; restoring it brings back exactly those", async () => {
      const p = await person();
      const note = await createNote(p.client, { title: "With files" });
      const other = await createNote(p.client, { title: "Other note" });
      const [f1, f2, alone] = await uploadToNote(p.client, note.id, [
        { name: "one.bin", bytes: randomBytes(1000) },
        { name: "two.bin", bytes: randomBytes(2000) },
        { name: "alone.bin", bytes: randomBytes(4000) },
      ]);
      const [otherFile] = await uploadToNote(p.client, other.id, [{ name: "other.bin", bytes: randomBytes(500) }]);
      const plain = await uploadOne(p.client, "plain.bin", randomBytes(300));
      const keys = await Promise.all([f1, f2, alone].map((f) => keyOf(f!.id)));
      // One file goes to the trash on its own first.
      const aloneTrashed = (await p.client.mutation<FileRecord>("files.delete", { id: alone!.id })).data;
      await new Promise((r) => setTimeout(r, 10));
      const usageBefore = await usage(p.client);

      const trashedNote = await trashNote(p.client, note.id);
      const noteDeletedAt = (await noteRow(note.id))!.deletedAt!.getTime();
      expect(Date.parse(trashedNote.deletedAt!)).toBe(noteDeletedAt);
      for (const f of [f1!, f2!]) {
        const r = await row(f.id);
        expect(r!.deletedAt!.getTime(), f.name).toBe(noteDeletedAt);
        expect(r!.noteId).toBe(note.id);
        expect((await p.client.query("files.get", { id: f.id })).status).toBe(404);
        expect((await download(p.client, f.id)).res.status).toBe(404);
      }
      expect((await row(alone!.id))!.deletedAt!.toISOString()).toBe(aloneTrashed.deletedAt);
      expect((await row(otherFile!.id))!.deletedAt).toBeNull();
      expect((await row(plain.id))!.deletedAt).toBeNull();
      expect((await listed(p.client)).sort()).toEqual([otherFile!.id, plain.id].sort());
      expect((await trashed(p.client)).sort()).toEqual([f1!.id, f2!.id, alone!.id].sort());
      expect(await usage(p.client)).toBe(usageBefore);
      for (const key of keys) expect(await t.storage.stat(key)).not.toBeNull();

      const restored = await p.client.mutation<Note>("notes.restore", { id: note.id });
      expect(restored.status).toBe(200);
      for (const f of [f1!, f2!]) {
        expect(await row(f.id), f.name).toMatchObject({ deletedAt: null, noteId: note.id });
        expect((await download(p.client, f.id)).bytes.length).toBe(f.size);
      }
      // The file trashed on its own stays in the trash, as it was.
      expect((await row(alone!.id))!.deletedAt!.toISOString()).toBe(aloneTrashed.deletedAt);
      expect(await trashed(p.client)).toEqual([alone!.id]);
      expect((await listed(p.client, { noteId: note.id })).sort()).toEqual([f1!.id, f2!.id].sort());
      expect((await listed(p.client)).sort()).toEqual([f1!.id, f2!.id, otherFile!.id, plain.id].sort());
    });

    it("keeps a note's files with it when the same note is deleted twice at once (a double click)", async () => {
      const p = await person();
      // A race: a few rounds, so a server that lets it through is caught.
      for (let round = 0; round < 10; round++) {
        const note = await createNote(p.client, { title: `Double click ${round}` });
        const files = await uploadToNote(p.client, note.id, [
          { name: "one.txt", bytes: "one\n" },
          { name: "two.txt", bytes: "two\n" },
        ]);
        const answers = await Promise.all([
          p.client.mutation("notes.delete", { id: note.id }),
          p.client.mutation("notes.delete", { id: note.id }),
        ]);
        expect(answers.map((a) => a.status)).toContain(200);
        for (const a of answers) expect([200, 404]).toContain(a.status);
        // The files went to the trash with the note: the same time as the note's.
        const noteAt = (await noteRow(note.id))!.deletedAt!.getTime();
        for (const f of files) expect((await row(f.id))!.deletedAt?.getTime(), `round ${round}`).toBe(noteAt);

        expect((await p.client.mutation("notes.restore", { id: note.id })).status).toBe(200);
        expect((await listed(p.client, { noteId: note.id })).sort(), `round ${round}`).toEqual(
          files.map((f) => f.id).sort(),
        );
      }
    });

    it("bulk trash and bulk restore do the same for several notes at once", async () => {
      const p = await person();
      const [n1, n2, n3] = [
        await createNote(p.client, { title: "Bulk one" }),
        await createNote(p.client, { title: "Bulk two" }),
        await createNote(p.client, { title: "Bulk three" }),
      ];
      const [a1, aAlone] = await uploadToNote(p.client, n1.id, [
        { name: "a1.txt", bytes: "a1\n" },
        { name: "a-alone.txt", bytes: "alone\n" },
      ]);
      const [b1] = await uploadToNote(p.client, n2.id, [{ name: "b1.txt", bytes: "b1\n" }]);
      const [c1] = await uploadToNote(p.client, n3.id, [{ name: "c1.txt", bytes: "c1\n" }]);
      await p.client.mutation("files.delete", { id: aAlone!.id });
      const aloneAt = (await row(aAlone!.id))!.deletedAt!.getTime();
      // The third note went to the trash earlier, on its own, with its file.
      await trashNote(p.client, n3.id);
      const n3At = (await noteRow(n3.id))!.deletedAt!.getTime();
      expect((await row(c1!.id))!.deletedAt!.getTime()).toBe(n3At);
      await new Promise((r) => setTimeout(r, 10));

      const bulkTrash = await p.client.mutation<{ affected: number }>("notes.bulk", {
        ids: [n1.id, n2.id, n3.id],
        action: "trash",
      });
      expect(bulkTrash.status).toBe(200);
      expect(bulkTrash.data).toEqual({ affected: 2 });
      const at = (await noteRow(n1.id))!.deletedAt!.getTime();
      expect((await noteRow(n2.id))!.deletedAt!.getTime()).toBe(at);
      expect((await row(a1!.id))!.deletedAt!.getTime()).toBe(at);
      expect((await row(b1!.id))!.deletedAt!.getTime()).toBe(at);
      // Already in the trash: the third note and its file keep their time.
      expect((await noteRow(n3.id))!.deletedAt!.getTime()).toBe(n3At);
      expect((await row(c1!.id))!.deletedAt!.getTime()).toBe(n3At);
      expect((await row(aAlone!.id))!.deletedAt!.getTime()).toBe(aloneAt);
      expect(await listed(p.client)).toEqual([]);

      const bulkRestore = await p.client.mutation<{ affected: number }>("notes.bulk", {
        ids: [n1.id, n2.id, n3.id],
        action: "restore",
      });
      expect(bulkRestore.status).toBe(200);
      expect(bulkRestore.data).toEqual({ affected: 3 });
      expect((await listed(p.client)).sort()).toEqual([a1!.id, b1!.id, c1!.id].sort());
      expect(await listed(p.client, { noteId: n3.id })).toEqual([c1!.id]);
      expect(await trashed(p.client)).toEqual([aAlone!.id]);
      expect((await row(aAlone!.id))!.deletedAt!.getTime()).toBe(aloneAt);
    });

    it("purging a note removes its files' rows and bytes, whether they went with it or alone", async () => {
      const p = await person();
      const doomed = await createNote(p.client, { title: "Doomed" });
      const spared = await createNote(p.client, { title: "Spared, in the trash too" });
      const live = await createNote(p.client, { title: "Live" });
      const [withNote, alone] = await uploadToNote(p.client, doomed.id, [
        { name: "with-note.bin", bytes: randomBytes(3000) },
        { name: "alone.bin", bytes: randomBytes(2000) },
      ]);
      const [sparedFile] = await uploadToNote(p.client, spared.id, [{ name: "spared.bin", bytes: randomBytes(700) }]);
      const [liveFile] = await uploadToNote(p.client, live.id, [{ name: "live.bin", bytes: randomBytes(500) }]);
      const plain = await uploadOne(p.client, "plain.bin", randomBytes(100));
      const [withKey, aloneKey] = [await keyOf(withNote!.id), await keyOf(alone!.id)];
      const otherKeys = [await keyOf(sparedFile!.id), await keyOf(liveFile!.id), await keyOf(plain.id)];
      await p.client.mutation("files.delete", { id: alone!.id });
      await trashNote(p.client, doomed.id);
      await trashNote(p.client, spared.id);
      expect(await usage(p.client)).toBe(6300);

      const res = await p.client.mutation<{ purged: number }>("notes.trash.purge", { id: doomed.id });
      expect(res.data).toEqual({ purged: 1 });
      expect(await row(withNote!.id)).toBeNull();
      expect(await row(alone!.id)).toBeNull();
      expect(await t.storage.stat(withKey)).toBeNull();
      expect(await t.storage.stat(aloneKey)).toBeNull();
      expect(await storedKeys(t.storage, `${p.id}/`)).toEqual([...otherKeys].sort());
      expect(await usage(p.client)).toBe(1300);
      expect(await trashed(p.client)).toEqual([sparedFile!.id]);
      expect((await p.client.mutation("files.restore", { id: withNote!.id })).status).toBe(404);
      expect((await p.client.mutation("files.trash.purge", { id: alone!.id })).status).toBe(404);
    });

    it("emptying the notes' trash removes the files of every trashed note and nothing else", async () => {
      const p = await person();
      const [n1, n2, keep] = [
        await createNote(p.client, { title: "Bin one" }),
        await createNote(p.client, { title: "Bin two" }),
        await createNote(p.client, { title: "Keep" }),
      ];
      const [f1] = await uploadToNote(p.client, n1.id, [{ name: "f1.bin", bytes: randomBytes(100) }]);
      const [f2] = await uploadToNote(p.client, n2.id, [{ name: "f2.bin", bytes: randomBytes(200) }]);
      const [k1] = await uploadToNote(p.client, keep.id, [{ name: "k1.bin", bytes: randomBytes(400) }]);
      const loose = await uploadOne(p.client, "loose.bin", randomBytes(800));
      await p.client.mutation("files.delete", { id: loose.id });
      const [f1Key, f2Key] = [await keyOf(f1!.id), await keyOf(f2!.id)];
      await trashNote(p.client, n1.id);
      await trashNote(p.client, n2.id);

      const res = await p.client.mutation<{ purged: number }>("notes.trash.purge");
      expect(res.data).toEqual({ purged: 2 });
      expect(await row(f1!.id)).toBeNull();
      expect(await row(f2!.id)).toBeNull();
      expect(await t.storage.stat(f1Key)).toBeNull();
      expect(await t.storage.stat(f2Key)).toBeNull();
      // The note in the list keeps its file; a file trashed on its own, not in a note, stays in the trash.
      expect(await listed(p.client, { noteId: keep.id })).toEqual([k1!.id]);
      expect(await trashed(p.client)).toEqual([loose.id]);
      expect(await t.storage.stat(await keyOf(loose.id))).not.toBeNull();
      expect(await usage(p.client)).toBe(1200);
    });

    it("a bulk purge removes the notes' files", async () => {
      const p = await person();
      const [n1, n2, other] = [
        await createNote(p.client, { title: "Bulk purge one" }),
        await createNote(p.client, { title: "Bulk purge two" }),
        await createNote(p.client, { title: "Stays in the trash" }),
      ];
      const [f1, f1b] = await uploadToNote(p.client, n1.id, [
        { name: "f1.bin", bytes: randomBytes(100) },
        { name: "f1b.bin", bytes: randomBytes(100) },
      ]);
      const [f2] = await uploadToNote(p.client, n2.id, [{ name: "f2.bin", bytes: randomBytes(100) }]);
      const [o1] = await uploadToNote(p.client, other.id, [{ name: "o1.bin", bytes: randomBytes(100) }]);
      const keys = await Promise.all([f1, f1b, f2].map((f) => keyOf(f!.id)));
      await p.client.mutation("files.delete", { id: f1b!.id });
      await p.client.mutation("notes.bulk", { ids: [n1.id, n2.id, other.id], action: "trash" });

      const res = await p.client.mutation<{ affected: number }>("notes.bulk", { ids: [n1.id, n2.id], action: "purge" });
      expect(res.status).toBe(200);
      expect(res.data).toEqual({ affected: 2 });
      expect(await t.models.File.count({ where: { id: [f1!.id, f1b!.id, f2!.id] } })).toBe(0);
      for (const key of keys) expect(await t.storage.stat(key)).toBeNull();
      expect(await storedKeys(t.storage, `${p.id}/`)).toEqual([await keyOf(o1!.id)]);
      expect(await trashed(p.client)).toEqual([o1!.id]);
    });

    it("a bulk purge refused for a note still in the list removes no file", async () => {
      const p = await person();
      const binned = await createNote(p.client, { title: "Binned" });
      const live = await createNote(p.client, { title: "Live" });
      await uploadToNote(p.client, binned.id, [{ name: "b.bin", bytes: randomBytes(100) }]);
      await uploadToNote(p.client, live.id, [{ name: "l.bin", bytes: randomBytes(100) }]);
      await trashNote(p.client, binned.id);
      const before = await holdings(p.id);
      const res = await p.client.mutation("notes.bulk", { ids: [binned.id, live.id], action: "purge" });
      expect(res.status).toBe(409);
      expect(await holdings(p.id)).toEqual(before);
    });

    it("the 30-day purge removes old trashed notes with their files, and keeps young ones and rescued files", async () => {
      const p = await person();
      const old = await createNote(p.client, { title: "Trashed long ago" });
      const young = await createNote(p.client, { title: "Trashed last week" });
      const [oldFile, rescued] = await uploadToNote(p.client, old.id, [
        { name: "old.bin", bytes: randomBytes(1000) },
        { name: "rescued.bin", bytes: randomBytes(2000) },
      ]);
      const [youngFile] = await uploadToNote(p.client, young.id, [{ name: "young.bin", bytes: randomBytes(4000) }]);
      const [oldKey, rescuedKey, youngKey] = [
        await keyOf(oldFile!.id),
        await keyOf(rescued!.id),
        await keyOf(youngFile!.id),
      ];
      await trashNote(p.client, old.id);
      await trashNote(p.client, young.id);
      // One of the old note's files came back on its own (and left the note).
      expect((await p.client.mutation<FileRecord>("files.restore", { id: rescued!.id })).data.noteId).toBeNull();
      const backdate = async (noteId: string, fileIds: string[], days: number) => {
        const deletedAt = new Date(Date.now() - days * DAY);
        await t.models.Note.update({ deletedAt }, { where: { id: noteId }, silent: true });
        await t.models.File.update({ deletedAt }, { where: { id: fileIds }, silent: true });
      };
      await backdate(old.id, [oldFile!.id], 31);
      await backdate(young.id, [youngFile!.id], 29);
      await t.server.runtime.deps.cache.invalidate("files", p.id);
      await t.server.runtime.deps.cache.invalidate("notes", p.id);

      await purgeOldTrash({ deps: t.server.runtime.deps });

      expect(await noteRow(old.id)).toBeNull();
      expect(await row(oldFile!.id)).toBeNull();
      expect(await t.storage.stat(oldKey)).toBeNull();
      expect(await noteRow(young.id)).not.toBeNull();
      expect((await row(youngFile!.id))!.deletedAt).not.toBeNull();
      expect(await t.storage.stat(youngKey)).not.toBeNull();
      expect(await row(rescued!.id)).toMatchObject({ deletedAt: null, noteId: null });
      expect(await t.storage.stat(rescuedKey)).not.toBeNull();
      expect(await usage(p.client)).toBe(6000);
      // The young note still comes back with its file.
      expect((await p.client.mutation("notes.restore", { id: young.id })).status).toBe(200);
      expect(await listed(p.client, { noteId: young.id })).toEqual([youngFile!.id]);
    });

    it("leaves the note's version and revisions as they were", async () => {
      const p = await person();
      const note = await createNote(p.client, { title: "Versioned", description: "first" });
      const edited = await p.client.mutation<Note>("notes.update", { id: note.id, version: 1, description: "second" });
      expect(edited.status).toBe(200);
      const revisions = async () => (await p.client.query("notes.revisions.list", { id: note.id })).data;
      const revisionsBefore = await revisions();
      expect((revisionsBefore as { items: unknown[] }).items).toHaveLength(1);
      const noteBefore = (await p.client.query<Note>("notes.get", { id: note.id })).data;

      const [file] = await uploadToNote(p.client, note.id, [{ name: "r.txt", bytes: "r\n" }]);
      const loose = await uploadOne(p.client, "loose.txt", "loose\n");
      await p.client.mutation("files.attach", { id: loose.id, noteId: note.id });
      await p.client.mutation("files.delete", { id: file!.id });
      await p.client.mutation("files.restore", { id: file!.id });
      await p.client.mutation("files.attach", { id: loose.id, noteId: null });
      await trashNote(p.client, note.id);
      await p.client.mutation("notes.restore", { id: note.id });

      expect((await p.client.query<Note>("notes.get", { id: note.id })).data).toEqual(noteBefore);
      expect(await revisions()).toEqual(revisionsBefore);
    });
  });

  describe("the JSON export", () => {
    it("lists each note's live files, oldest first, and [] for a note without any", async () => {
      const p = await person();
      const early = await uploadOne(p.client, "early.txt", "uploaded before the note\n");
      const note = await createNote(p.client, { title: "With attachments" });
      const bare = await createNote(p.client, { title: "Without" });
      const binned = await createNote(p.client, { title: "In the trash" });
      const [a, b] = await uploadToNote(p.client, note.id, [
        { name: "a.txt", bytes: "a\n" },
        { name: "b.txt", bytes: "b\n" },
      ]);
      await new Promise((r) => setTimeout(r, 5));
      const [later] = await uploadToNote(p.client, note.id, [{ name: "later.txt", bytes: "later\n" }]);
      const [gone] = await uploadToNote(p.client, note.id, [{ name: "gone.txt", bytes: "gone\n" }]);
      const [left] = await uploadToNote(p.client, note.id, [{ name: "left.txt", bytes: "left\n" }]);
      await uploadToNote(p.client, binned.id, [{ name: "binned.txt", bytes: "binned\n" }]);
      await p.client.mutation("files.delete", { id: gone!.id });
      await p.client.mutation("files.attach", { id: left!.id, noteId: null });
      // Linked last but uploaded first: it comes first.
      expect((await p.client.mutation("files.attach", { id: early.id, noteId: note.id })).status).toBe(200);
      await trashNote(p.client, binned.id);

      const res = await p.client.fetch("/api/v1/notes/export?format=json");
      expect(res.status).toBe(200);
      const exported = JSON.parse(Buffer.from(await res.arrayBuffer()).toString("utf8")) as ExportedNote[];
      const byId = new Map(exported.map((n) => [n.id, n]));
      expect([...byId.keys()].sort()).toEqual([note.id, bare.id].sort());
      expect(byId.get(note.id)!.attachments).toEqual([early, a!, b!, later!].map((f) => ({ id: f.id, name: f.name })));
      expect(byId.get(bare.id)!.attachments).toEqual([]);
    });
  });
});
