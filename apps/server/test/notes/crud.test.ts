// Notes through the real server: writing, versioned edits, keyset lists in every order, the trash
// and its 30-day sweep.
import { purgeOldTrash, type Page } from "@notebox/core";
import { createMigrator, newId, Op } from "@notebox/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import { createNote, search, textOf, trashNote, walkPages, type Note, type NoteSummary } from "../support/notes";
import { createUser, signIn, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

async function signedIn() {
  const { user, account } = await createUser(t);
  return { user, client: await signIn(t, account) };
}

type StoredNote = Omit<Note, "createdAt" | "updatedAt" | "deletedAt"> & {
  ownerId: string;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
};

/** The stored row, with dates as ISO strings, for before/after comparisons. */
async function storedRow(id: string): Promise<StoredNote | null> {
  const row = await t.models.Note.findByPk(id, { raw: true });
  return row && (JSON.parse(JSON.stringify(row)) as StoredNote);
}

const DAY = 24 * 60 * 60 * 1000;

describe("writing notes", () => {
  let client: TestClient;
  beforeAll(async () => {
    ({ client } = await signedIn());
  });

  it("creates a note at version 1, trims the title, and reads it back", async () => {
    const res = await client.mutation<Note>("notes.create", {
      title: "  Groceries \t",
      description: "milk\n\teggs\r\n",
    });
    expect(res.status).toBe(200);
    const note = res.data;
    expect(note).toMatchObject({ title: "Groceries", description: "milk\n\teggs\r\n", version: 1, deletedAt: null });
    expect(note.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(note.createdAt)).not.toBeNaN();
    expect(note.updatedAt).toBe(note.createdAt);

    const got = await client.query<Note>("notes.get", { id: note.id });
    expect(got.status).toBe(200);
    expect(got.data).toEqual(note);
  });

  it("accepts a note without text", async () => {
    const res = await client.mutation<Note>("notes.create", { title: "Just a title" });
    expect(res.status).toBe(200);
    expect(res.data.description).toBe("");
  });

  it("accepts titles of 1 and 200 characters and refuses empty or longer ones with a field error", async () => {
    expect((await client.mutation("notes.create", { title: "x" })).status).toBe(200);
    expect((await client.mutation("notes.create", { title: "é".repeat(200) })).status).toBe(200);
    for (const title of ["", "   \t ", "x".repeat(201)]) {
      const res = await client.mutation("notes.create", { title });
      expect(res.status, JSON.stringify(title.slice(0, 10))).toBe(400);
      expect(res.error!.data.fieldErrors!.title).toHaveLength(1);
    }
  });

  it("accepts 100 KB of text and refuses one byte more, counting bytes rather than characters", async () => {
    const limit = 100 * 1024;
    const full = await client.mutation<Note>("notes.create", { title: "Full", description: "a".repeat(limit) });
    expect(full.status).toBe(200);
    expect((await storedRow(full.data.id))!.description).toHaveLength(limit);

    const before = await t.models.Note.count();
    const tooLong = await client.mutation("notes.create", { title: "Too long", description: "a".repeat(limit + 1) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.error!.data.fieldErrors!.description).toContain("Keep the note under 100 KB.");
    // 51,201 two-byte characters: under the limit in characters, over it in bytes.
    const wide = await client.mutation("notes.create", { title: "Wide", description: "é".repeat(limit / 2 + 1) });
    expect(wide.status).toBe(400);
    expect(wide.error!.data.fieldErrors!.description).toContain("Keep the note under 100 KB.");
    expect(await t.models.Note.count()).toBe(before);
  });

  it("refuses control characters in the title and the text, but keeps tabs and line breaks in the text", async () => {
    const before = await t.models.Note.count();
    for (const [input, field] of [
      [{ title: "bell\u0007" }, "title"],
      [{ title: "two\nlines" }, "title"],
      [{ title: "c1\u0085" }, "title"],
      [{ title: "ok", description: "escape \u001b[31m red" }, "description"],
      [{ title: "ok", description: "delete \u007f" }, "description"],
      [{ title: "ok", description: "nul \u0000" }, "description"],
    ] as const) {
      const res = await client.mutation("notes.create", input);
      expect(res.status, JSON.stringify(input)).toBe(400);
      expect(Object.keys(res.error!.data.fieldErrors!), JSON.stringify(input)).toEqual([field]);
    }
    expect(await t.models.Note.count()).toBe(before);
  });

  it("ignores an owner, id, version or trash date sent with a new note", async () => {
    const { user, client: mine } = await signedIn();
    const other = await signedIn();
    const chosenId = "01900000-0000-7000-8000-000000000000";
    const res = await mine.mutation<Note>("notes.create", {
      title: "Mine",
      description: "",
      ownerId: other.user.id,
      id: chosenId,
      version: 99,
      deletedAt: "2020-01-01T00:00:00.000Z",
    });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ title: "Mine", version: 1, deletedAt: null });
    expect(res.data.id).not.toBe(chosenId);
    expect(await t.models.Note.findByPk(chosenId)).toBeNull();
    expect(await storedRow(res.data.id)).toMatchObject({ ownerId: user.id, version: 1, deletedAt: null });
    expect((await other.client.query<Page<NoteSummary>>("notes.list")).data.items).toEqual([]);
    expect((await mine.query<Page<NoteSummary>>("notes.list")).data.items.map((n) => n.id)).toEqual([res.data.id]);
  });
});

describe("editing with versions", () => {
  let client: TestClient;
  let ownerId: string;
  beforeAll(async () => {
    const signed = await signedIn();
    client = signed.client;
    ownerId = signed.user.id;
  });

  it("bumps the version on every edit and changes only the fields sent", async () => {
    const note = await createNote(client, { title: "Draft", description: "first text" });
    const retitled = await client.mutation<Note>("notes.update", { id: note.id, version: 1, title: "  Final " });
    expect(retitled.status).toBe(200);
    expect(retitled.data).toMatchObject({ title: "Final", description: "first text", version: 2 });
    expect(Date.parse(retitled.data.updatedAt)).toBeGreaterThanOrEqual(Date.parse(note.updatedAt));

    const rewritten = await client.mutation<Note>("notes.update", {
      id: note.id,
      version: 2,
      description: "second text",
    });
    expect(rewritten.data).toMatchObject({ title: "Final", description: "second text", version: 3 });
    expect((await client.query<Note>("notes.get", { id: note.id })).data).toEqual(rewritten.data);
    expect(await storedRow(note.id)).toMatchObject({ title: "Final", description: "second text", version: 3 });
  });

  it("keeps what is derived from the title and text in step with every edit", async () => {
    const note = await createNote(client, { title: "Zucchini", description: "- [ ] buy seeds\n\nFirst words" });
    const row = async () => {
      const stored = await t.models.Note.findByPk(note.id, { raw: true });
      return { titleKey: stored?.titleKey, excerpt: stored?.excerpt, openTasks: Boolean(stored?.openTasks) };
    };
    expect(await row()).toEqual({ titleKey: "zucchini", excerpt: "buy seeds First words", openTasks: true });
    await client.mutation("notes.update", { id: note.id, version: 1, title: "Édamame" });
    expect(await row()).toEqual({ titleKey: "edamame", excerpt: "buy seeds First words", openTasks: true });
    await client.mutation("notes.update", { id: note.id, version: 2, description: "- [x] bought **them**" });
    expect(await row()).toEqual({ titleKey: "edamame", excerpt: "bought them", openTasks: false });
    // A pin changes none of them, makes no version, and pinning twice is no conflict.
    for (let i = 0; i < 2; i++) {
      const pinned = await client.mutation<Note>("notes.update", { id: note.id, pinned: true });
      expect(pinned.status).toBe(200);
      expect(pinned.data).toMatchObject({ pinned: true, version: 3, title: "Édamame" });
    }
    expect(await row()).toEqual({ titleKey: "edamame", excerpt: "bought them", openTasks: false });
  });

  it("answers CONFLICT to an edit made from a stale version and keeps the stored note", async () => {
    const note = await createNote(client, { title: "Shared list", description: "bread" });
    await client.mutation("notes.update", { id: note.id, version: 1, description: "bread, butter" });
    const before = await storedRow(note.id);

    const stale = await client.mutation("notes.update", {
      id: note.id,
      version: 1,
      title: "Overwritten",
      description: "lost",
    });
    expect(stale.status).toBe(409);
    expect(stale.error!.data.code).toBe("CONFLICT");
    expect(stale.error!.data.reason).toBe("version_conflict");
    expect(stale.error!.data.fieldErrors!.version).toEqual(["The note is now at version 2."]);
    expect(await storedRow(note.id)).toEqual(before);

    const ahead = await client.mutation("notes.update", { id: note.id, version: 7, title: "From the future" });
    expect(ahead.status).toBe(409);
    expect(await storedRow(note.id)).toEqual(before);
  });

  it("lets exactly one of two simultaneous edits of the same version win", async () => {
    const note = await createNote(client, { title: "Race", description: "" });
    const [a, b] = await Promise.all([
      client.mutation<Note>("notes.update", { id: note.id, version: 1, title: "Edit A" }),
      client.mutation<Note>("notes.update", { id: note.id, version: 1, title: "Edit B" }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const winner = a.status === 200 ? a.data : b.data;
    expect(await storedRow(note.id)).toMatchObject({ title: winner.title, version: 2 });
  });

  it("answers NOT_FOUND when the note does not exist or is in the trash", async () => {
    const missing = await client.mutation("notes.update", {
      id: "01900000-0000-7000-8000-000000000001",
      version: 1,
      title: "x",
    });
    expect(missing.status).toBe(404);
    const note = await createNote(client, { title: "Binned", description: "" });
    await trashNote(client, note.id);
    const before = await storedRow(note.id);
    const res = await client.mutation("notes.update", { id: note.id, version: 1, title: "Edited in the bin" });
    expect(res.status).toBe(404);
    expect(await storedRow(note.id)).toEqual(before);
  });

  it("refuses an edit without the version it was made from", async () => {
    const note = await createNote(client, { title: "Versionless", description: "" });
    for (const version of [undefined, 0, 1.5, "1"]) {
      const res = await client.mutation("notes.update", { id: note.id, title: "x", version });
      expect(res.status, String(version)).toBe(400);
      expect(res.error!.data.fieldErrors!.version).toBeTruthy();
    }
    expect(await storedRow(note.id)).toMatchObject({ title: "Versionless", version: 1 });
  });

  it("ignores an owner sent with an edit", async () => {
    const other = await signedIn();
    const note = await createNote(client, { title: "Still mine", description: "" });
    const res = await client.mutation<Note>("notes.update", {
      id: note.id,
      version: 1,
      title: "Still mine, edited",
      ownerId: other.user.id,
    });
    expect(res.status).toBe(200);
    expect(await storedRow(note.id)).toMatchObject({ ownerId, title: "Still mine, edited" });
  });
});

describe("lists", () => {
  let client: TestClient;
  let live: Note[];
  let trashed: Note[];

  beforeAll(async () => {
    ({ client } = await signedIn());
    // Duplicate titles and shared timestamps exercise the cursor's tie-break on the id.
    const titles = ["mango", "apple", "kiwi", "banana", "apple", "cherry", "fig", "banana", "date", "grape"];
    const notes: Note[] = [];
    for (const title of titles) notes.push(await createNote(client, { title, description: `all about ${title}` }));
    const sameMoment = new Date("2026-01-02T03:04:05.678Z");
    await t.models.Note.update(
      { createdAt: sameMoment, updatedAt: sameMoment },
      { where: { id: notes.slice(3, 7).map((n) => n.id) }, silent: true },
    );
    trashed = [notes[1]!, notes[8]!];
    for (const note of trashed) await trashNote(client, note.id);
    live = notes.filter((n) => !trashed.includes(n));
  });

  const orders = [
    { sort: "updated", key: (n: NoteSummary) => n.updatedAt, desc: true },
    { sort: "created", key: (n: NoteSummary) => n.createdAt, desc: true },
    { sort: "title", key: (n: NoteSummary) => n.title, desc: false },
  ] as const;

  for (const { sort, key, desc } of orders) {
    for (const limit of [2, 3]) {
      it(`walks every note exactly once by ${sort}, ${limit} per page`, async () => {
        const pages = await walkPages<NoteSummary>(client, "notes.list", { sort, limit });
        expect(pages.slice(0, -1).every((p) => p.length === limit)).toBe(true);
        const walked = pages.flat();
        expect(walked.map((n) => n.id).sort()).toEqual(live.map((n) => n.id).sort());

        // The same order as one big page, and that order is the one asked for (ties by id).
        const single = await client.query<Page<NoteSummary>>("notes.list", { sort, limit: 100 });
        expect(walked.map((n) => n.id)).toEqual(single.data.items.map((n) => n.id));
        for (let i = 1; i < walked.length; i++) {
          const [a, b] = [walked[i - 1]!, walked[i]!];
          const cmp = key(a) === key(b) ? (a.id < b.id ? -1 : 1) : key(a) < key(b) ? -1 : 1;
          expect(desc ? -cmp : cmp, `${key(a)} ${a.id} then ${key(b)} ${b.id}`).toBe(-1);
        }
      });
    }
  }

  it("sorts titles A to Z whatever their case and accents", async () => {
    const { client: writer } = await signedIn();
    for (const title of ["apple", "Zebra", "Éclair", "banana", "eclair"]) await createNote(writer, { title });
    const page = await writer.query<Page<NoteSummary>>("notes.list", { sort: "title" });
    const fold = (s: string) => s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
    expect(page.data.items.map((n) => fold(n.title))).toEqual(["apple", "banana", "eclair", "eclair", "zebra"]);
  });

  it("shows an excerpt instead of the whole text", async () => {
    const long = await createNote(client, { title: "zz long", description: `${"word ".repeat(20_000)}end` });
    const page = await client.query<Page<NoteSummary>>("notes.list", { sort: "title", limit: 100 });
    const item = page.data.items.find((n) => n.id === long.id)!;
    expect(item).not.toHaveProperty("description");
    expect(item.excerpt.length).toBeLessThanOrEqual(240);
    expect(item.excerpt.startsWith("word word")).toBe(true);
    await trashNote(client, long.id);
    await client.mutation("notes.trash.purge", { id: long.id });
  });

  it("keeps trashed notes out of the list and shows them in the trash", async () => {
    const listed = (await walkPages<NoteSummary>(client, "notes.list", { limit: 3 })).flat();
    expect(listed.map((n) => n.id)).not.toEqual(expect.arrayContaining([trashed[0]!.id]));
    expect(listed.map((n) => n.id)).not.toEqual(expect.arrayContaining([trashed[1]!.id]));

    const bin = (await walkPages<NoteSummary>(client, "notes.trash.list", { limit: 1 })).flat();
    expect(bin.map((n) => n.id).sort()).toEqual(trashed.map((n) => n.id).sort());
    expect(bin.every((n) => n.deletedAt !== null)).toBe(true);
  });

  it("refuses a forged cursor with a field error", async () => {
    for (const cursor of ["not-a-cursor", Buffer.from('{"v":1}').toString("base64url"), "%%%"]) {
      const res = await client.query("notes.list", { cursor });
      expect(res.status, cursor).toBe(400);
      expect(res.error!.data.fieldErrors!.cursor).toBeTruthy();
    }
  });
});

describe("the trash", () => {
  let client: TestClient;
  let ownerId: string;
  beforeAll(async () => {
    const signed = await signedIn();
    client = signed.client;
    ownerId = signed.user.id;
  });

  it("moves a deleted note to the trash and restores it to its place", async () => {
    const note = await createNote(client, { title: "Keep me", description: "" });
    const deleted = await client.mutation<Note>("notes.delete", { id: note.id });
    expect(deleted.status).toBe(200);
    expect(deleted.data.deletedAt).not.toBeNull();
    expect((await storedRow(note.id))!.deletedAt).not.toBeNull();
    expect((await client.mutation("notes.delete", { id: note.id })).status).toBe(404);

    const restored = await client.mutation<Note>("notes.restore", { id: note.id });
    expect(restored.status).toBe(200);
    expect(restored.data).toEqual({ ...note, deletedAt: null });
    expect((await client.mutation("notes.restore", { id: note.id })).status).toBe(404);
    const list = await client.query<Page<NoteSummary>>("notes.list");
    expect(list.data.items.map((n) => n.id)).toContain(note.id);
  });

  it("purges one trashed note for good and leaves the rest", async () => {
    const a = await createNote(client, { title: "Purge me", description: "" });
    const b = await createNote(client, { title: "Not yet", description: "" });
    const kept = await createNote(client, { title: "Not trashed", description: "" });
    await trashNote(client, a.id);
    await trashNote(client, b.id);

    const res = await client.mutation<{ purged: number }>("notes.trash.purge", { id: a.id });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ purged: 1 });
    expect(await t.models.Note.findByPk(a.id)).toBeNull();
    expect(await storedRow(b.id)).not.toBeNull();

    // Only a trashed note can be purged; a live one is left alone.
    const live = await client.mutation("notes.trash.purge", { id: kept.id });
    expect(live.status).toBe(404);
    expect((await storedRow(kept.id))!.deletedAt).toBeNull();
    expect((await client.mutation("notes.trash.purge", { id: a.id })).status).toBe(404);
  });

  it("empties the whole trash and keeps the notes that are not in it", async () => {
    const keep = await createNote(client, { title: "Live", description: "" });
    for (let i = 0; i < 3; i++)
      await trashNote(client, (await createNote(client, { title: `Bin ${i}`, description: "" })).id);
    const trashedBefore = await t.models.Note.count({ where: { ownerId, deletedAt: { [Op.ne]: null } } });
    expect(trashedBefore).toBeGreaterThanOrEqual(3);

    const res = await client.mutation<{ purged: number }>("notes.trash.purge");
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ purged: trashedBefore });
    expect((await client.query<Page<NoteSummary>>("notes.trash.list")).data).toEqual({ items: [], nextCursor: null });
    const rows = await t.models.Note.findAll({ where: { ownerId }, raw: true });
    expect(rows.every((r) => r.deletedAt === null)).toBe(true);
    expect(rows.map((r) => r.id)).toContain(keep.id);
    expect((await client.mutation("notes.trash.purge")).data).toEqual({ purged: 0 });
  });

  it("sweeps notes trashed more than 30 days ago and keeps younger ones", async () => {
    const old = await createNote(client, { title: "Trashed long ago", description: "" });
    const young = await createNote(client, { title: "Trashed last week", description: "" });
    const live = await createNote(client, { title: "Never trashed", description: "" });
    await trashNote(client, old.id);
    await trashNote(client, young.id);
    await t.models.Note.update({ deletedAt: new Date(Date.now() - 31 * DAY) }, { where: { id: old.id }, silent: true });
    await t.models.Note.update(
      { deletedAt: new Date(Date.now() - 29 * DAY) },
      { where: { id: young.id }, silent: true },
    );

    const removed = await purgeOldTrash({ deps: t.server.runtime.deps });
    expect(removed).toBeGreaterThanOrEqual(1);
    expect(await t.models.Note.findByPk(old.id)).toBeNull();
    expect(await storedRow(young.id)).not.toBeNull();
    expect(await storedRow(live.id)).toMatchObject({ deletedAt: null });
  });
});

describe("markup in notes", () => {
  it("returns a <script> title and text verbatim, for the web app to show as text", async () => {
    const { client } = await signedIn();
    const title = `<script>alert("title")</script><img src=x onerror=alert(1)>`;
    const description = `<script>alert('text')</script>\n<a href="javascript:alert(2)">x</a> &amp; &lt;b&gt;`;
    const note = await createNote(client, { title, description });
    expect(note).toMatchObject({ title, description });
    expect((await client.query<Note>("notes.get", { id: note.id })).data).toMatchObject({ title, description });
    expect(await storedRow(note.id)).toMatchObject({ title, description });
    const listed = (await client.query<Page<NoteSummary>>("notes.list")).data.items[0]!;
    expect(listed.title).toBe(title);
    // Previews are plain text: no markup, entities decoded, never HTML.
    expect(listed.excerpt).toBe("alert('text') x & <b>");

    const hit = (await search(client, "script alert")).items[0]!;
    expect(textOf(hit.titleHighlights)).toBe(title);
    expect(textOf(hit.snippet)).toBe("alert('text') x & <b>");
  });
});

describe("upgrading a database whose notes predate the title sort key", () => {
  it("gives every existing note its key, so they sort A to Z and are still found", async () => {
    const { client, user } = await signedIn();
    const migrator = createMigrator(t.server.runtime.deps.db.sequelize);
    await migrator.down({ to: "2026-11-23T05-00-notes-title-key" });
    try {
      // Rows as the earlier schema wrote them: no sort key.
      const now = new Date();
      await t.server.runtime.deps.db.sequelize.getQueryInterface().bulkInsert(
        "notes",
        ["Zucchini", "apricot", "Édamame"].map((title) => ({
          id: newId(),
          owner_id: user.id,
          owner_key: `u${user.id.replace(/-/g, "")}`,
          title,
          description: `about ${title}`,
          version: 1,
          created_at: now,
          updated_at: now,
          deleted_at: null,
        })),
      );
    } finally {
      await migrator.up();
    }
    const page = await client.query<Page<NoteSummary>>("notes.list", { sort: "title" });
    expect(page.data.items.map((n) => n.title)).toEqual(["apricot", "Édamame", "Zucchini"]);
    expect((await search(client, "edamame")).items.map((h) => h.title)).toEqual(["Édamame"]);
  });
});
