// Revision history through the real server (issue 16, item 1): every saved change of a note's
// title or text keeps the state it replaced, autosaves within 10 minutes collapse, a restore is an
// edit like any other, the history goes with the note, and the hourly thinning keeps a shape.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REVISION_COLLAPSE_MS, REVISIONS_PER_NOTE_MAX, thinRevisions, type RevisionSummary } from "@notebox/core";
import { newId } from "@notebox/db";
import { ok, signedIn } from "../support/admin";
import type { TestClient } from "../support/client";
import { eventually } from "../support/files";
import { createNote, walkPages, type Note } from "../support/notes";
import { startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

type Revision = RevisionSummary & { description: string };

const bytesOf = (title: string, description: string) =>
  Buffer.byteLength(title, "utf8") + Buffer.byteLength(description, "utf8");

/** Moves the note's last kept revision back in time, as if the last one was kept `ms` ago. */
async function age(id: string, ms = REVISION_COLLAPSE_MS + MINUTE) {
  // `silent`: a static update would otherwise also set the note's updatedAt to now.
  await t.models.Note.update({ revisedAt: new Date(Date.now() - ms) }, { where: { id }, silent: true });
}

async function edit(client: TestClient, note: Note, changes: Record<string, unknown>): Promise<Note> {
  return ok(await client.mutation<Note>("notes.update", { id: note.id, version: note.version, ...changes }), "edit");
}

async function history(client: TestClient, id: string): Promise<RevisionSummary[]> {
  return (await walkPages<RevisionSummary>(client, "notes.revisions.list", { id })).flat();
}

const numbers = (items: { revision: number }[]) => items.map((r) => r.revision);
const rowCount = (noteId: string) => t.models.NoteRevision.count({ where: { noteId } });
const noteRow = async (id: string) => (await t.models.Note.findByPk(id))!;

describe("keeping revisions", () => {
  it("keeps the replaced state on the first edit, collapses edits within 10 minutes, keeps the next after", async () => {
    const { client } = await signedIn(t);
    const note = await createNote(client, { title: "Draft", description: "first text, café ☕" });
    expect(await history(client, note.id)).toEqual([]);

    const started = Date.now();
    const first = await edit(client, note, { title: "Plan", description: "second" });
    expect(first.version).toBe(note.version + 1);
    const [one, ...rest] = await history(client, note.id);
    expect(rest).toEqual([]);
    expect(one).toEqual({
      revision: 1,
      createdAt: one?.createdAt,
      title: "Draft",
      bytes: bytesOf("Draft", "first text, café ☕"),
      source: "edit",
    });
    expect(one!.createdAt).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    const kept = Date.parse(one!.createdAt);
    expect(kept).toBeGreaterThanOrEqual(started - 1000);
    expect(kept).toBeLessThanOrEqual(Date.now() + 1000);
    expect(ok(await client.query<Revision>("notes.revisions.get", { id: note.id, revision: 1 }))).toEqual({
      ...one,
      description: "first text, café ☕",
    });
    const row = await noteRow(note.id);
    expect(row.lastRevision).toBe(1);
    expect(row.revisedAt?.getTime()).toBe(kept);

    // An autosave a moment later keeps nothing: the state before the burst is kept already.
    const second = await edit(client, first, { description: "third" });
    expect(numbers(await history(client, note.id))).toEqual([1]);

    // Still inside the 10 minutes: nothing.
    await age(note.id, REVISION_COLLAPSE_MS - MINUTE);
    const third = await edit(client, second, { description: "fourth" });
    expect(numbers(await history(client, note.id))).toEqual([1]);

    // 11 minutes after the last kept revision, the next edit keeps what it replaces.
    await age(note.id);
    const fourth = await edit(client, third, { description: "fifth" });
    const items = await history(client, note.id);
    expect(numbers(items)).toEqual([2, 1]);
    expect(items[0]).toMatchObject({ title: "Plan", source: "edit", bytes: bytesOf("Plan", "fourth") });
    expect(ok(await client.query<Revision>("notes.revisions.get", { id: note.id, revision: 2 }))).toMatchObject({
      title: "Plan",
      description: "fourth",
    });
    expect(fourth).toMatchObject({ title: "Plan", description: "fifth", version: note.version + 4 });
    expect(await rowCount(note.id)).toBe(2);
  });

  it("keeps none for a save that changes nothing, a pin, or tags alone", async () => {
    const { client } = await signedIn(t);
    let note = await createNote(client, { title: "Same", description: "unchanged", tags: ["a"] });
    // Each time, the collapse window is long past: only the rule under test can keep it out.
    await age(note.id);
    note = await edit(client, note, { title: "Same", description: "unchanged" });
    await age(note.id);
    note = await edit(client, note, { title: "Same" });
    await age(note.id);
    note = await edit(client, note, { description: "unchanged" });
    await age(note.id);
    ok(await client.mutation("notes.update", { id: note.id, pinned: true }), "pin");
    await age(note.id);
    note = await edit(client, note, { tags: ["a", "b"] });
    expect(note.tags).toEqual(["a", "b"]);
    expect(await history(client, note.id)).toEqual([]);
    expect(await rowCount(note.id)).toBe(0);
    expect((await noteRow(note.id)).lastRevision).toBe(0);

    // A stale edit is refused and keeps nothing either.
    await age(note.id);
    const stale = await client.mutation("notes.update", { id: note.id, version: 1, title: "Other" });
    expect(stale.status).toBe(409);
    expect(await rowCount(note.id)).toBe(0);

    // The first real change after all that is revision 1, holding the state it replaced.
    await edit(client, note, { title: "Changed", tags: ["c"] });
    const items = await history(client, note.id);
    expect(items).toMatchObject([{ revision: 1, title: "Same", source: "edit" }]);
  });
});

describe("restoring a revision", () => {
  it("makes a new version with the revision's text and keeps the replaced state as a 'restore' revision", async () => {
    const { client } = await signedIn(t);
    const v1 = await createNote(client, { title: "One", description: "text one" });
    await age(v1.id);
    const v2 = await edit(client, v1, { title: "Two", description: "text two" });
    await age(v1.id);
    const v3 = await edit(client, v2, { title: "Three", description: "text three" });
    expect(numbers(await history(client, v1.id))).toEqual([2, 1]);

    // Unknown revision, with the right version: 404, and nothing changes.
    const unknown = await client.mutation("notes.revisions.restore", { id: v1.id, revision: 3, version: v3.version });
    expect(unknown.status).toBe(404);
    // A stale version: 409 version_conflict, and nothing changes either.
    const stale = await client.mutation("notes.revisions.restore", { id: v1.id, revision: 1, version: v2.version });
    expect(stale.status).toBe(409);
    expect(stale.error!.data.reason).toBe("version_conflict");
    expect(stale.error!.data.fieldErrors).toHaveProperty("version");
    expect(ok(await client.query<Note>("notes.get", { id: v1.id }))).toEqual(v3);
    expect(await rowCount(v1.id)).toBe(2);

    const restored = ok(
      await client.mutation<Note>("notes.revisions.restore", { id: v1.id, revision: 1, version: v3.version }),
    );
    expect(restored).toMatchObject({ id: v1.id, title: "One", description: "text one", version: v3.version + 1 });
    expect(ok(await client.query<Note>("notes.get", { id: v1.id }))).toEqual(restored);
    const items = await history(client, v1.id);
    expect(numbers(items)).toEqual([3, 2, 1]);
    expect(items[0]).toMatchObject({ title: "Three", source: "restore", bytes: bytesOf("Three", "text three") });
    expect(ok(await client.query<Revision>("notes.revisions.get", { id: v1.id, revision: 3 }))).toMatchObject({
      title: "Three",
      description: "text three",
      source: "restore",
    });

    // A restore is not collapsed like an autosave: straight after, another keeps its own revision.
    const again = ok(
      await client.mutation<Note>("notes.revisions.restore", { id: v1.id, revision: 3, version: restored.version }),
    );
    expect(again).toMatchObject({ title: "Three", description: "text three", version: restored.version + 1 });
    expect(await history(client, v1.id)).toMatchObject([
      { revision: 4, title: "One", source: "restore" },
      { revision: 3 },
      { revision: 2 },
      { revision: 1 },
    ]);
    // The old version is stale now.
    const late = await client.mutation("notes.revisions.restore", {
      id: v1.id,
      revision: 2,
      version: restored.version,
    });
    expect(late.status).toBe(409);
    expect(await rowCount(v1.id)).toBe(4);
  });
});

describe("whose history", () => {
  it("is the owner's alone: another person gets 404 for the note and each of its revision numbers", async () => {
    const a = await signedIn(t);
    const b = await signedIn(t);
    let note = await createNote(a.client, { title: "Secret", description: "the first secret" });
    note = await edit(a.client, note, { description: "the second secret" });
    const own = await createNote(b.client, { title: "Mine" });

    const list = await b.client.query("notes.revisions.list", { id: note.id });
    expect(list.status).toBe(404);
    expect(JSON.stringify(list.error)).not.toContain("Secret");
    for (const revision of [1, 2]) {
      expect((await b.client.query("notes.revisions.get", { id: note.id, revision })).status).toBe(404);
      const restore = await b.client.mutation("notes.revisions.restore", {
        id: note.id,
        revision,
        version: note.version,
      });
      expect(restore.status).toBe(404);
      // A's revision number on B's own note (which has none) is not found either.
      expect((await b.client.query("notes.revisions.get", { id: own.id, revision })).status).toBe(404);
    }
    expect((await b.client.query("notes.revisions.list", { id: newId() })).status).toBe(404);
    expect(ok(await a.client.query<Note>("notes.get", { id: note.id }))).toEqual(note);
    expect(numbers(await history(a.client, note.id))).toEqual([1]);
  });

  it("refuses bad input with 400", async () => {
    const { client } = await signedIn(t);
    let note = await createNote(client, { title: "Input" });
    note = await edit(client, note, { title: "Input 2" });
    for (const revision of [0, -1, "x", "1", 1.5, null, 1e20, Number.MAX_SAFE_INTEGER + 2]) {
      const get = await client.query("notes.revisions.get", { id: note.id, revision });
      expect(get.status, `get ${JSON.stringify(revision)}`).toBe(400);
      const restore = await client.mutation("notes.revisions.restore", { id: note.id, revision, version: 2 });
      expect(restore.status, `restore ${JSON.stringify(revision)}`).toBe(400);
    }
    expect((await client.query("notes.revisions.get", { id: note.id })).status).toBe(400);
    expect((await client.query("notes.revisions.get", { revision: 1 })).status).toBe(400);
    for (const version of [0, -1, "2", undefined]) {
      const res = await client.mutation("notes.revisions.restore", { id: note.id, revision: 1, version });
      expect(res.status, `version ${JSON.stringify(version)}`).toBe(400);
    }
    const cursor = (key: unknown) => Buffer.from(JSON.stringify(key)).toString("base64url");
    for (const bad of ["x".repeat(513), "%%%", "not a cursor", cursor({ r: "5" }), cursor({ r: 1e300 }), cursor([])]) {
      const res = await client.query("notes.revisions.list", { id: note.id, cursor: bad });
      expect(res.status, `cursor ${bad.slice(0, 20)}`).toBe(400);
    }
    expect((await client.query("notes.revisions.list", { id: "x".repeat(65) })).status).toBe(400);
    // A valid but unknown number is simply not found, on both databases (past a 32-bit INT too).
    for (const revision of [2, 2 ** 31, Number.MAX_SAFE_INTEGER]) {
      expect((await client.query("notes.revisions.get", { id: note.id, revision })).status).toBe(404);
    }
    // Nothing was restored or kept by any of it.
    expect(ok(await client.query<Note>("notes.get", { id: note.id }))).toEqual(note);
    expect(await rowCount(note.id)).toBe(1);
  });
});

describe("pages of history", () => {
  it("lists 50 a page, newest first, following nextCursor to the last", async () => {
    const { client } = await signedIn(t);
    let note = await createNote(client, { title: "Busy", description: "text 0" });
    for (let i = 1; i <= 60; i++) {
      await age(note.id);
      note = await edit(client, note, { description: `text ${i}` });
    }
    const first = ok(
      await client.query<{ items: RevisionSummary[]; nextCursor: string | null }>("notes.revisions.list", {
        id: note.id,
      }),
    );
    expect(numbers(first.items)).toEqual(Array.from({ length: 50 }, (_, i) => 60 - i));
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = ok(
      await client.query<{ items: RevisionSummary[]; nextCursor: string | null }>("notes.revisions.list", {
        id: note.id,
        cursor: first.nextCursor,
      }),
    );
    expect(numbers(second.items)).toEqual(Array.from({ length: 10 }, (_, i) => 10 - i));
    expect(second.nextCursor).toBeNull();
    expect(second.items.map((r) => r.bytes)).toEqual(
      second.items.map((r) => bytesOf("Busy", `text ${r.revision - 1}`)),
    );
    for (const revision of [1, 37, 60]) {
      expect(ok(await client.query<Revision>("notes.revisions.get", { id: note.id, revision })).description).toBe(
        `text ${revision - 1}`,
      );
    }
    // Newest first also by time.
    const times = [...first.items, ...second.items].map((r) => Date.parse(r.createdAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
  }, 60_000);

  it("ends exactly at 50 without an empty last page", async () => {
    const { client } = await signedIn(t);
    const note = await createNote(client, { title: "Fifty" });
    const now = Date.now();
    await t.models.NoteRevision.bulkCreate(
      Array.from({ length: 50 }, (_, i) => ({
        id: newId(),
        noteId: note.id,
        revision: i + 1,
        title: `r${i + 1}`,
        description: "",
        bytes: 2,
        source: "edit" as const,
        createdAt: new Date(now - (50 - i) * MINUTE),
      })),
    );
    const page = ok(
      await client.query<{ items: RevisionSummary[]; nextCursor: string | null }>("notes.revisions.list", {
        id: note.id,
      }),
    );
    expect(page.items).toHaveLength(50);
    expect(page.nextCursor).toBeNull();
  });
});

describe("the history goes with the note", () => {
  it("stays readable in the trash and is removed with the note when it is purged", async () => {
    const { client } = await signedIn(t);
    let note = await createNote(client, { title: "Binned", description: "before" });
    note = await edit(client, note, { description: "after" });
    const other = await createNote(client, { title: "Stays" });
    await edit(client, other, { title: "Stays 2" });
    ok(await client.mutation("notes.delete", { id: note.id }), "trash");

    expect(numbers(await history(client, note.id))).toEqual([1]);
    expect(ok(await client.query<Revision>("notes.revisions.get", { id: note.id, revision: 1 })).description).toBe(
      "before",
    );
    ok(await client.mutation("notes.trash.purge", { id: note.id }), "purge");
    expect(await rowCount(note.id)).toBe(0);
    expect((await client.query("notes.revisions.list", { id: note.id })).status).toBe(404);
    expect((await client.query("notes.revisions.get", { id: note.id, revision: 1 })).status).toBe(404);
    expect(await rowCount(other.id)).toBe(1);
  });

  it("is removed when an administrator deletes the person, once the background deletion finishes", async () => {
    const admin = await signedIn(t, "admin");
    const victim = await signedIn(t);
    const bystander = await signedIn(t);
    const ids: string[] = [];
    for (const title of ["first", "second"]) {
      let note = await createNote(victim.client, { title });
      note = await edit(victim.client, note, { title: `${title} edited` });
      await age(note.id);
      await edit(victim.client, note, { title: `${title} edited again` });
      ids.push(note.id);
    }
    const kept = await createNote(bystander.client, { title: "bystander" });
    await edit(bystander.client, kept, { title: "bystander edited" });
    expect(await t.models.NoteRevision.count({ where: { noteId: ids } })).toBe(4);

    ok(await admin.client.mutation("admin.users.delete", { id: victim.user.id }), "admin.users.delete");
    await eventually(async () => expect(await t.models.User.findByPk(victim.user.id)).toBeNull(), 20_000);
    expect(await t.models.Note.count({ where: { id: ids } })).toBe(0);
    expect(await t.models.NoteRevision.count({ where: { noteId: ids } })).toBe(0);
    expect(await rowCount(kept.id)).toBe(1);
  });
});

describe("thinning", () => {
  type Row = { revision: number; createdAt: Date };

  /** Inserts revisions 1..n (oldest first) for a note, and records the newest on the note. */
  async function seed(noteId: string, times: Date[]) {
    const sorted = [...times].sort((a, b) => a.getTime() - b.getTime());
    const rows = sorted.map((createdAt, i) => ({
      id: newId(),
      noteId,
      revision: i + 1,
      title: `state ${i + 1}`,
      description: `text of state ${i + 1}`,
      bytes: bytesOf(`state ${i + 1}`, `text of state ${i + 1}`),
      source: "edit" as const,
      createdAt,
    }));
    for (let i = 0; i < rows.length; i += 400) await t.models.NoteRevision.bulkCreate(rows.slice(i, i + 400));
    await t.models.Note.update(
      { lastRevision: rows.length, revisedAt: sorted[sorted.length - 1]! },
      { where: { id: noteId }, silent: true },
    );
    return rows.map(({ revision, createdAt }) => ({ revision, createdAt }));
  }

  const remaining = async (noteId: string): Promise<Row[]> =>
    (
      await t.models.NoteRevision.findAll({
        where: { noteId },
        attributes: ["revision", "createdAt"],
        order: [["revision", "ASC"]],
      })
    ).map((r) => ({ revision: r.revision, createdAt: r.createdAt }));

  const groupBy = (rows: Row[], key: (r: Row) => number) => {
    const groups = new Map<number, Row[]>();
    for (const r of rows) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
    return groups;
  };
  const newest = (rows: Row[]) => Math.max(...rows.map((r) => r.createdAt.getTime()));
  const utcDay = (r: Row) => Math.floor(r.createdAt.getTime() / DAY);
  const week = (r: Row) => Math.floor(r.createdAt.getTime() / WEEK);

  it("keeps the last 7 days, the newest of each day to 90 days, the newest of each week after", async () => {
    const { client } = await signedIn(t);
    const note = await createNote(client, { title: "Old", description: "current text" });
    const crowded = await createNote(client, { title: "Crowded" });
    const now = new Date();
    // Four a day for 400 days, six hours apart, none exactly on a boundary.
    const seeded = await seed(
      note.id,
      Array.from({ length: 400 * 4 }, (_, j) => new Date(now.getTime() - j * 6 * HOUR - 30 * MINUTE)),
    );
    // 350 in the last few days: more than the cap, all young.
    const young = await seed(
      crowded.id,
      Array.from({ length: 350 }, (_, j) => new Date(now.getTime() - j * 20 * MINUTE - MINUTE)),
    );

    const ageOf = (r: Row) => now.getTime() - r.createdAt.getTime();
    const recent = seeded.filter((r) => ageOf(r) < 7 * DAY);
    const daily = seeded.filter((r) => ageOf(r) >= 7 * DAY && ageOf(r) < 90 * DAY);
    const weekly = seeded.filter((r) => ageOf(r) >= 90 * DAY);
    const expected = [
      ...recent,
      ...[...groupBy(daily, utcDay).values(), ...groupBy(weekly, week).values()].map((rows) =>
        rows.find((r) => r.createdAt.getTime() === newest(rows))!,
      ),
    ]
      .map((r) => r.revision)
      .sort((x, y) => x - y);

    const removed = await thinRevisions({ deps: t.server.runtime.deps, now });
    const left = await remaining(note.id);
    expect(removed).toBe(seeded.length - left.length + (young.length - REVISIONS_PER_NOTE_MAX));
    expect(numbers(left)).toEqual(expected);

    // Every revision of the last 7 days.
    expect(left.filter((r) => ageOf(r) < 7 * DAY)).toHaveLength(recent.length);
    expect(recent).toHaveLength(28);
    // Exactly one a day from 7 to 90 days, the newest of that day.
    const keptDaily = groupBy(
      left.filter((r) => ageOf(r) >= 7 * DAY && ageOf(r) < 90 * DAY),
      utcDay,
    );
    const seededDaily = groupBy(daily, utcDay);
    expect([...keptDaily.keys()].sort((x, y) => x - y)).toEqual([...seededDaily.keys()].sort((x, y) => x - y));
    for (const [day, rows] of keptDaily) {
      expect(rows).toHaveLength(1);
      expect(rows[0]!.createdAt.getTime()).toBe(newest(seededDaily.get(day)!));
    }
    // One a week after that, the newest of the week.
    const keptWeekly = groupBy(
      left.filter((r) => ageOf(r) >= 90 * DAY),
      week,
    );
    const seededWeekly = groupBy(weekly, week);
    expect([...keptWeekly.keys()].sort((x, y) => x - y)).toEqual([...seededWeekly.keys()].sort((x, y) => x - y));
    for (const [w, rows] of keptWeekly) {
      expect(rows).toHaveLength(1);
      expect(rows[0]!.createdAt.getTime()).toBe(newest(seededWeekly.get(w)!));
    }
    expect(left.length).toBeLessThanOrEqual(REVISIONS_PER_NOTE_MAX);
    expect(keptWeekly.size).toBeGreaterThanOrEqual(44);

    // Past the cap, the oldest go: the newest 300 stay.
    expect(numbers(await remaining(crowded.id))).toEqual(
      Array.from({ length: REVISIONS_PER_NOTE_MAX }, (_, i) => young.length - REVISIONS_PER_NOTE_MAX + 1 + i),
    );

    // Thinning again removes nothing more.
    expect(await thinRevisions({ deps: t.server.runtime.deps, now })).toBe(0);
    expect(numbers(await remaining(note.id))).toEqual(expected);
    expect(await rowCount(crowded.id)).toBe(REVISIONS_PER_NOTE_MAX);

    // What is left reads through the API, and the next edit numbers its revision after the highest.
    const items = await history(client, note.id);
    expect(numbers(items)).toEqual([...expected].reverse());
    const oldest = ok(await client.query<Revision>("notes.revisions.get", { id: note.id, revision: expected[0]! }));
    expect(oldest.description).toBe(`text of state ${expected[0]}`);
    const thinnedAway = seeded.find((r) => !expected.includes(r.revision))!;
    expect((await client.query("notes.revisions.get", { id: note.id, revision: thinnedAway.revision })).status).toBe(
      404,
    );
    await age(note.id);
    await edit(client, note, { title: "New" });
    expect((await history(client, note.id))[0]).toMatchObject({
      revision: seeded.length + 1,
      title: "Old",
      source: "edit",
    });
    await age(crowded.id);
    await edit(client, crowded, { title: "Crowded 2" });
    expect((await remaining(crowded.id)).at(-1)!.revision).toBe(young.length + 1);
  }, 120_000);

  it("gets to every note with old history, a bounded number of notes per run", async () => {
    const { client } = await signedIn(t);
    const now = new Date();
    const notes: Note[] = [];
    for (const title of ["first", "second", "third"]) {
      const note = await createNote(client, { title });
      // Two a day for 20 days: each note has something to thin.
      await seed(
        note.id,
        Array.from({ length: 40 }, (_, j) => new Date(now.getTime() - j * 12 * HOUR - HOUR)),
      );
      notes.push(note);
    }
    // Every note with aged history in the database, the earlier tests' included, gets its turn.
    const aged = await t.models.NoteRevision.count({ distinct: true, col: "noteId" });
    for (let run = 0; run < aged + notes.length; run++) {
      await thinRevisions({ deps: t.server.runtime.deps, now, notesPerRun: 1 });
    }
    for (const note of notes) {
      const left = await remaining(note.id);
      expect(left.length, note.title).toBeLessThan(40);
      expect(
        groupBy(
          left.filter((r) => now.getTime() - r.createdAt.getTime() >= 7 * DAY),
          utcDay,
        ).size,
      ).toBe(left.filter((r) => now.getTime() - r.createdAt.getTime() >= 7 * DAY).length);
    }
  }, 60_000);
});
