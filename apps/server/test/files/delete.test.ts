// Purging a file from the trash (or deleting its owner) removes the stored bytes too, and the sweeper removes what a
// crash can leave: objects no row points to and temporaries of interrupted writes, while keeping
// every object that has a row.
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { sweepStorage } from "@notebox/core";
import { newId } from "@notebox/db";
import type { Storage } from "@notebox/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import {
  download,
  drivers,
  eventually,
  storedKeys,
  startFilesServerSignedIn,
  temporaries,
  upload,
  uploadOne,
  type FileRecord,
  type FilesServer,
} from "../support/files";
import { createUser, signIn } from "../support/server";

describe.each(drivers)("deleting files (%s storage)", (driver) => {
  let t: FilesServer;
  let a: TestClient;
  let ownerId: string;

  beforeAll(async () => {
    ({ t, a, ownerId } = await startFilesServerSignedIn(driver));
  });
  afterAll(() => t?.close());

  const keyOf = async (id: string) => (await t.models.File.findByPk(id))!.storageKey;

  /**
   * What the sweeper runs against. s3rver does not implement ListMultipartUploads, so there the
   * S3 driver's sweepTemporaries throws (and with it the whole sweep); against s3rver the sweep
   * of abandoned multipart uploads is left out and only the orphan sweep is exercised.
   */
  function sweepDeps(): { db: FilesServer["server"]["runtime"]["deps"]["db"]; storage: Storage } {
    const storage = t.storage;
    return {
      db: t.server.runtime.deps.db,
      storage: driver === "s3" ? { ...storage, sweepTemporaries: () => Promise.resolve(0) } : storage,
    };
  }

  describe("files.delete", () => {
    it("moves the file to the trash; purging it removes the row and the stored bytes", async () => {
      const file = await uploadOne(a, "doomed.bin", randomBytes(100_000));
      const key = await keyOf(file.id);
      expect(await t.storage.stat(key)).toEqual({ size: 100_000 });
      const usageBefore = (await a.query<{ usedBytes: number }>("files.usage")).data.usedBytes;

      const res = await a.mutation<FileRecord>("files.delete", { id: file.id });
      expect(res.status).toBe(200);
      expect(res.data).toMatchObject({ id: file.id, name: "doomed.bin" });
      expect(res.data.deletedAt).toEqual(expect.any(String));

      // In the trash: out of the list and unreadable, the bytes kept and still counted.
      expect(await t.storage.stat(key)).toEqual({ size: 100_000 });
      expect((await a.query("files.get", { id: file.id })).status).toBe(404);
      expect((await download(a, file.id)).res.status).toBe(404);
      expect((await a.query<{ items: FileRecord[] }>("files.list")).data.items.map((f) => f.id)).not.toContain(file.id);
      expect((await a.query<{ usedBytes: number }>("files.usage")).data.usedBytes).toBe(usageBefore);
      // A second delete finds nothing in the list.
      expect((await a.mutation("files.delete", { id: file.id })).status).toBe(404);

      expect((await a.mutation("files.trash.purge", { id: file.id })).data).toEqual({ purged: 1 });
      expect(await t.models.File.findByPk(file.id)).toBeNull();
      expect(await t.storage.stat(key)).toBeNull();
      expect(await storedKeys(t.storage)).not.toContain(key);
      expect((await a.query<{ usedBytes: number }>("files.usage")).data.usedBytes).toBe(usageBefore - 100_000);
      expect((await a.mutation("files.trash.purge", { id: file.id })).status).toBe(404);
    });

    it("purges only the file asked for", async () => {
      const [keep, drop] = await upload(a, [
        { name: "keep.txt", bytes: "keep me\n" },
        { name: "drop.txt", bytes: "drop me\n" },
      ]);
      const [keepKey, dropKey] = [await keyOf(keep!.id), await keyOf(drop!.id)];
      expect((await a.mutation("files.delete", { id: drop!.id })).status).toBe(200);
      expect((await a.mutation("files.trash.purge", { id: drop!.id })).status).toBe(200);
      expect(await t.storage.stat(dropKey)).toBeNull();
      expect(await t.storage.stat(keepKey)).not.toBeNull();
      expect((await download(a, keep!.id)).bytes.toString()).toBe("keep me\n");
    });

    it("needs the session's Origin like every other mutation", async () => {
      const file = await uploadOne(a, "csrf.txt", "still here\n");
      const res = await a.fetch("/api/v1/trpc/files.delete", {
        method: "POST",
        headers: { "content-type": "application/json", origin: "https://evil.example" },
        body: JSON.stringify({ id: file.id }),
      });
      expect(res.status).toBe(403);
      expect(await t.storage.stat(await keyOf(file.id))).not.toBeNull();
    });
  });

  describe("deleting a person", () => {
    it("removes every stored file of theirs and nobody else's", async () => {
      const { user: victim, account } = await createUser(t);
      const client = await signIn(t, account);
      const files = await upload(client, [
        { name: "one.bin", bytes: randomBytes(1000) },
        { name: "two.bin", bytes: randomBytes(2000) },
      ]);
      const keys = await storedKeys(t.storage, `${victim.id}/`);
      expect(keys).toHaveLength(2);
      const othersBefore = await storedKeys(t.storage, `${ownerId}/`);

      const admin = await signIn(t, (await createUser(t, { role: "admin" })).account);
      const res = await admin.mutation("admin.users.delete", { id: victim.id });
      expect(res.status).toBe(200);

      // The files go in the background, after the account is hidden and signed out.
      await eventually(async () => expect(await t.models.User.findByPk(victim.id)).toBeNull(), 20_000);
      expect(await t.models.File.count({ where: { id: files.map((f) => f.id) } })).toBe(0);
      for (const key of keys) expect(await t.storage.stat(key)).toBeNull();
      expect(await storedKeys(t.storage, `${ownerId}/`)).toEqual(othersBefore);
    });
  });

  describe("the sweeper", () => {
    it("removes orphaned objects and stray temporaries, and keeps every object with a row", async () => {
      const kept = await upload(a, [
        { name: "kept-1.bin", bytes: randomBytes(5000) },
        { name: "kept-2.txt", bytes: "kept\n" },
      ]);
      const keptKeys = await Promise.all(kept.map((f) => keyOf(f.id)));
      // What a crash between storing the bytes and committing the row leaves: bytes under a
      // generated key that no row points to (one of a known owner, one of an owner long gone).
      const orphans = [`${ownerId}/${newId()}`, `${newId()}/${newId()}`];
      for (const key of orphans) await t.storage.put(key, Readable.from([randomBytes(3000)]));
      // And the temporary of a write that never finished (local disk only).
      if (driver === "file") {
        const tempDir = path.join(t.dataDir, "files", ".tmp");
        await mkdir(tempDir, { recursive: true });
        await writeFile(path.join(tempDir, `${Date.now()}-deadbeefdeadbeef`), randomBytes(4000));
      }
      const before = await storedKeys(t.storage);
      for (const key of [...orphans, ...keptKeys]) expect(before).toContain(key);

      const result = await sweepStorage({ deps: sweepDeps(), graceMs: 0 });

      expect(result.orphans).toBe(orphans.length);
      expect(result.temporaries).toBe(driver === "file" ? 1 : 0);
      const after = await storedKeys(t.storage);
      for (const key of orphans) expect(after).not.toContain(key);
      expect(after).toEqual(before.filter((key) => !orphans.includes(key)));
      expect(await temporaries(t)).toEqual([]);
      for (const file of kept) {
        const { res, bytes } = await download(a, file.id);
        expect(res.status).toBe(200);
        expect(bytes.length).toBe(file.size);
      }
      // Nothing left to do the second time.
      expect(await sweepStorage({ deps: sweepDeps(), graceMs: 0 })).toEqual({ temporaries: 0, orphans: 0 });
    });

    it("leaves young objects alone: they may belong to an upload about to commit", async () => {
      const young = `${ownerId}/${newId()}`;
      await t.storage.put(young, Readable.from([Buffer.from("in flight\n")]));
      const result = await sweepStorage({ deps: sweepDeps() }); // the default grace period
      expect(result.orphans).toBe(0);
      expect(await t.storage.stat(young)).not.toBeNull();
      await sweepStorage({ deps: sweepDeps(), graceMs: 0 });
      expect(await t.storage.stat(young)).toBeNull();
    });
  });
});
