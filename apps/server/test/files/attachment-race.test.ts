// A note trashed or purged while a file is still streaming into it: the upload is refused with
// 404 when its rows would be committed, and the bytes it stored are removed at once, so no row
// points to a note that is gone and no stored object is left for the sweeper.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import { createNote } from "../support/notes";
import {
  drivers,
  KiB,
  startFilesServerSignedIn,
  storedKeys,
  StreamingUpload,
  type FilesServer,
} from "../support/files";

describe.each(drivers)("a note deleted while a file streams into it (%s storage)", (driver) => {
  let t: FilesServer;
  let a: TestClient;
  let ownerId: string;

  beforeAll(async () => {
    ({ t, a, ownerId } = await startFilesServerSignedIn(driver));
  });
  afterAll(() => t?.close());

  /** Starts an upload into the note and sends part of it, then runs `meanwhile`, then finishes it. */
  async function uploadAround(noteId: string, meanwhile: () => Promise<void>) {
    const before = await storedKeys(t.storage, `${ownerId}/`);
    const up = StreamingUpload.as(a, `?noteId=${encodeURIComponent(noteId)}`);
    await up.startFile("first.bin");
    await up.write(randomBytes(256 * KiB));
    await up.startFile("second.bin");
    await up.write(randomBytes(256 * KiB));
    await meanwhile();
    await up.write(randomBytes(64 * KiB));
    const answer = await up.finish();
    return { answer, before };
  }

  it.each([
    ["trashed", (client: TestClient, id: string) => client.mutation("notes.delete", { id })],
    [
      "purged",
      async (client: TestClient, id: string) => {
        await client.mutation("notes.delete", { id });
        await client.mutation("notes.trash.purge", { id });
      },
    ],
  ])("refuses the upload when the note was %s meanwhile, and keeps nothing", async (_, remove) => {
    const note = await createNote(a, { title: "Holiday photos", description: "" });
    const { answer, before } = await uploadAround(note.id, async () => {
      await remove(a, note.id);
    });
    expect(answer).toMatchObject({ status: 404 });
    expect(JSON.parse((answer as { body: string }).body)).toMatchObject({ error: { code: "NOT_FOUND" } });
    expect(await t.models.File.count({ where: { noteId: note.id } })).toBe(0);
    expect(await storedKeys(t.storage, `${ownerId}/`)).toEqual(before);
  });

  it("stores the files in the note when it stayed", async () => {
    const note = await createNote(a, { title: "Receipts", description: "" });
    const { answer } = await uploadAround(note.id, async () => {});
    expect(answer).toMatchObject({ status: 201 });
    const rows = await t.models.File.findAll({ where: { noteId: note.id } });
    expect(rows.map((r) => r.name).sort()).toEqual(["first.bin", "second.bin"]);
  });
});
