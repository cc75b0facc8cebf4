// Every notes procedure is scoped to the signed-in owner: another person's note answers NOT_FOUND
// exactly like a note that does not exist, is never listed or found, and is never changed.
import { SESSION_COOKIE } from "@notebox/api";
import type { Page } from "@notebox/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import { createNote, search, trashNote, walkPages, type Note, type NoteSummary } from "../support/notes";
import { createUser, signIn, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
/** A, the owner, with one live and one trashed note; B, another signed-in person with notes of their own. */
let a: TestClient;
let b: TestClient;
let aLive: Note;
let aTrashed: Note;
let bNote: Note;

// Words that only A's notes contain, in the title and in the text.
const A_TITLE_WORD = "quixotically";
const A_TEXT_WORD = "zanzibarite";

beforeAll(async () => {
  t = await startTestServer();
  a = await signIn(t, (await createUser(t)).account);
  b = await signIn(t, (await createUser(t)).account);
  aLive = await createNote(a, {
    title: `A's ${A_TITLE_WORD} plan`,
    description: `The ${A_TEXT_WORD} secret, filed by A.`,
  });
  aTrashed = await createNote(a, {
    title: `A's binned ${A_TITLE_WORD} draft`,
    description: `An old ${A_TEXT_WORD} draft.`,
  });
  await trashNote(a, aTrashed.id);
  aTrashed = (await a.query<Note>("notes.get", { id: aTrashed.id })).data;
  bNote = await createNote(b, { title: "B's plan", description: "B's own secret, filed by B." });
  const bTrashed = await createNote(b, { title: "B's binned draft", description: "An old draft of B's." });
  await trashNote(b, bTrashed.id);
});
afterAll(() => t.close());

/** Every stored note of A's, for proving a refused call changed nothing. */
async function aRows() {
  const rows = await t.models.Note.findAll({
    where: { id: [aLive.id, aTrashed.id] },
    order: [["id", "ASC"]],
    raw: true,
  });
  return JSON.parse(JSON.stringify(rows)) as unknown[];
}

describe("another person's note", () => {
  const calls: [string, () => Promise<{ status: number; error: { data: { code: string } } | null }>][] = [
    ["notes.get", () => b.query("notes.get", { id: aLive.id })],
    ["notes.get of a trashed note", () => b.query("notes.get", { id: aTrashed.id })],
    [
      "notes.update",
      () => b.mutation("notes.update", { id: aLive.id, version: 1, title: "Taken over", description: "by B" }),
    ],
    ["notes.delete", () => b.mutation("notes.delete", { id: aLive.id })],
    ["notes.restore", () => b.mutation("notes.restore", { id: aTrashed.id })],
    ["notes.trash.purge of a trashed note", () => b.mutation("notes.trash.purge", { id: aTrashed.id })],
    ["notes.trash.purge of a live note", () => b.mutation("notes.trash.purge", { id: aLive.id })],
  ];

  for (const [name, call] of calls) {
    it(`answers NOT_FOUND to ${name} and leaves the note as it was`, async () => {
      const before = await aRows();
      expect(before).toHaveLength(2);
      const res = await call();
      expect(res.status).toBe(404);
      expect(res.error!.data.code).toBe("NOT_FOUND");
      expect(await aRows()).toEqual(before);
    });
  }

  it("answers a note of someone else's exactly like one that does not exist", async () => {
    const theirs = await b.query("notes.get", { id: aLive.id });
    const nobodys = await b.query("notes.get", { id: "01900000-0000-7000-8000-00000000dead" });
    expect(theirs.status).toBe(nobodys.status);
    expect(theirs.error).toEqual(nobodys.error);
  });

  it("leaves A's notes out of B's emptied trash", async () => {
    const before = await aRows();
    const res = await b.mutation<{ purged: number }>("notes.trash.purge");
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ purged: 1 });
    expect(await aRows()).toEqual(before);
  });

  it("still serves A everything B was refused", async () => {
    expect((await a.query<Note>("notes.get", { id: aLive.id })).data).toEqual(aLive);
    expect((await a.query<Note>("notes.get", { id: aTrashed.id })).data).toEqual(aTrashed);
    expect((await search(a, A_TEXT_WORD)).items.map((h) => h.id)).toEqual([aLive.id]);
  });
});

describe("lists and search", () => {
  it("never lists A's notes to B, in any order or in the trash", async () => {
    for (const sort of ["updated", "created", "title"]) {
      const listed = (await walkPages<NoteSummary>(b, "notes.list", { sort, limit: 1 })).flat();
      expect(listed.map((n) => n.id)).toEqual([bNote.id]);
    }
    expect((await b.query<Page<NoteSummary>>("notes.trash.list")).data.items).toEqual([]);
  });

  it("never finds A's notes for B, even by A's own words", async () => {
    for (const q of [
      A_TITLE_WORD,
      A_TEXT_WORD,
      `${A_TITLE_WORD} ${A_TEXT_WORD}`,
      "quix",
      "za",
      "a",
      "plan",
      "secret filed",
      aLive.title,
      aLive.description,
    ]) {
      const hits = await search(b, q);
      expect(
        hits.items.filter((h) => h.id === aLive.id || h.id === aTrashed.id),
        q,
      ).toEqual([]);
    }
    // B's own note is still found among words A's notes share.
    expect((await search(b, "plan")).items.map((h) => h.id)).toEqual([bNote.id]);
    expect((await search(a, "plan")).items.map((h) => h.id)).toEqual([aLive.id]);
  });
});

describe("signed out", () => {
  const id = "01900000-0000-7000-8000-000000000000";
  const procedures: [type: "query" | "mutation", path: string, input: unknown][] = [
    ["query", "notes.list", undefined],
    ["query", "notes.list", { sort: "title", limit: 5 }],
    ["query", "notes.get", { id }],
    ["mutation", "notes.create", { title: "Anonymous", description: "" }],
    ["mutation", "notes.update", { id, version: 1, title: "Anonymous" }],
    ["mutation", "notes.delete", { id }],
    ["mutation", "notes.restore", { id }],
    ["query", "notes.search", { q: "plan" }],
    ["query", "notes.trash.list", undefined],
    ["mutation", "notes.trash.purge", undefined],
    ["mutation", "notes.trash.purge", { id }],
  ];

  for (const [type, path, input] of procedures) {
    it(`answers UNAUTHORIZED to ${path}${input ? ` ${JSON.stringify(input)}` : ""} and writes nothing`, async () => {
      const before = await t.models.Note.findAll({ order: [["id", "ASC"]], raw: true });
      for (const client of [
        t.client(),
        t.client({ headers: { cookie: `${SESSION_COOKIE}=abcdefghijklmnopqrstuvwxyz234567` } }),
      ]) {
        const res = type === "query" ? await client.query(path, input) : await client.mutation(path, input);
        expect(res.status).toBe(401);
        expect(res.error!.data.code).toBe("UNAUTHORIZED");
      }
      expect(await t.models.Note.findAll({ order: [["id", "ASC"]], raw: true })).toEqual(before);
    });
  }
});
