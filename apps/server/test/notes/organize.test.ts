// Organising notes through the real server: tags, pins, search filters, plain-text previews and
// bulk actions, each scoped to its owner.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import { createNote, highlighted, search, textOf, walkPages, type Note, type NoteSummary } from "../support/notes";
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

type Tag = { name: string; count: number };
const tagsOf = async (client: TestClient) => (await client.query<Tag[]>("notes.tags.list")).data;
const titles = (items: { title: string }[]) => items.map((i) => i.title);
const listTitles = async (client: TestClient, input: Record<string, unknown> = {}) =>
  (await walkPages<NoteSummary>(client, "notes.list", input)).flat().map((n) => n.title);
const searchTitles = async (client: TestClient, q: string) => titles((await search(client, q, { limit: 100 })).items);

describe("tags", () => {
  it("are trimmed, kept once per spelling (case and accents aside) as first written, and counted", async () => {
    const { client } = await signedIn();
    const a = await createNote(client, { title: "A", tags: ["  Work ", "work", "Café", "cafe", "road  trip"] });
    expect(a.tags).toEqual(["Work", "Café", "road trip"]);
    await createNote(client, { title: "B", tags: ["WORK"] });
    const c = await createNote(client, { title: "C", tags: ["cafe"] });
    // The spelling first written stays the tag's name.
    expect(c.tags).toEqual(["Café"]);
    expect(await tagsOf(client)).toEqual([
      { name: "Café", count: 2 },
      { name: "road trip", count: 1 },
      { name: "Work", count: 2 },
    ]);
    expect((await client.query<Note>("notes.get", { id: a.id })).data.tags).toEqual(["Work", "Café", "road trip"]);

    // A note in the trash is not counted; a tag on no note any more disappears.
    await client.mutation("notes.delete", { id: c.id });
    expect(await tagsOf(client)).toContainEqual({ name: "Café", count: 1 });
    const updated = await client.mutation<Note>("notes.update", { id: a.id, version: a.version, tags: ["Work"] });
    expect(updated.status).toBe(200);
    expect(updated.data).toMatchObject({ tags: ["Work"], version: a.version + 1 });
    expect((await tagsOf(client)).map((x) => x.name)).toEqual(["Work"]);
    await client.mutation("notes.trash.purge", {});
    expect(await tagsOf(client)).toEqual([{ name: "Work", count: 2 }]);
  });

  it("refuse more than 20 on a note, or a name over 40 characters, with 400 naming the field", async () => {
    const { client } = await signedIn();
    const many = Array.from({ length: 21 }, (_, i) => `t${i}`);
    const tooMany = await client.mutation("notes.create", { title: "x", tags: many });
    expect(tooMany.status).toBe(400);
    expect(tooMany.error!.data.fieldErrors).toHaveProperty("tags");
    const tooLong = await client.mutation("notes.create", { title: "x", tags: ["é".repeat(41)] });
    expect(tooLong.status).toBe(400);
    expect(Object.keys(tooLong.error!.data.fieldErrors!)[0]).toMatch(/^tags/);
    for (const bad of [[""], ["   "], ["a\u0000b"], "work", [42]]) {
      const res = await client.mutation("notes.create", { title: "x", tags: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    expect(
      (await client.mutation("notes.create", { title: "x", tags: ["é".repeat(40), ...many.slice(2)] })).status,
    ).toBe(200);
  });

  it("filter the list, are found by search, and can be renamed, merged and deleted", async () => {
    const { client } = await signedIn();
    const one = await createNote(client, { title: "One", tags: ["Projects", "Old"] });
    await createNote(client, { title: "Two", tags: ["projects"] });
    await createNote(client, { title: "Three", tags: ["Ideas"] });
    expect(await listTitles(client, { tag: "PROJECTS" })).toEqual(["Two", "One"]);
    expect(await listTitles(client, { tag: "nothing" })).toEqual([]);
    expect(await searchTitles(client, "ideas")).toEqual(["Three"]);

    // Rename in place keeps each note's order of tags and bumps its version.
    const renamed = await client.mutation<Tag>("notes.tags.rename", { from: "old", to: "Archive" });
    expect(renamed.data).toEqual({ name: "Archive", count: 1 });
    const after = (await client.query<Note>("notes.get", { id: one.id })).data;
    expect(after.tags).toEqual(["Projects", "Archive"]);
    expect(after.version).toBe(one.version + 1);
    expect(await searchTitles(client, "archive")).toEqual(["One"]);
    expect(await searchTitles(client, "old")).toEqual([]);

    // Into an existing tag, the two merge.
    expect((await client.mutation<Tag>("notes.tags.rename", { from: "ideas", to: "projects" })).data).toEqual({
      name: "Projects",
      count: 3,
    });
    expect(await tagsOf(client)).toEqual([
      { name: "Archive", count: 1 },
      { name: "Projects", count: 3 },
    ]);

    expect((await client.mutation("notes.tags.delete", { name: "ARCHIVE" })).data).toEqual({ notes: 1 });
    expect((await client.query<Note>("notes.get", { id: one.id })).data.tags).toEqual(["Projects"]);
    expect((await client.mutation("notes.tags.delete", { name: "archive" })).status).toBe(404);
    expect((await client.mutation("notes.tags.rename", { from: "nope", to: "x" })).status).toBe(404);
  });

  it("are the owner's alone: another person sees none of their names or counts", async () => {
    const a = await signedIn();
    const b = await signedIn();
    await createNote(a.client, { title: "Secret", tags: ["Confidential"] });
    expect(await tagsOf(b.client)).toEqual([]);
    expect(await listTitles(b.client, { tag: "confidential" })).toEqual([]);
    expect(await searchTitles(b.client, "tag:confidential")).toEqual([]);
    expect(await searchTitles(b.client, "confidential")).toEqual([]);
    expect((await b.client.mutation("notes.tags.rename", { from: "confidential", to: "mine" })).status).toBe(404);
    expect((await b.client.mutation("notes.tags.delete", { name: "confidential" })).status).toBe(404);
    expect(await tagsOf(a.client)).toEqual([{ name: "Confidential", count: 1 }]);
  });
});

describe("pins", () => {
  it("need no version, make none, and put pinned notes first in every order and across pages", async () => {
    const { client } = await signedIn();
    const made: Note[] = [];
    for (const title of ["delta", "Alpha", "charlie", "bravo", "echo"]) made.push(await createNote(client, { title }));
    const byTitle = Object.fromEntries(made.map((n) => [n.title, n]));
    for (const title of ["charlie", "delta"]) {
      const res = await client.mutation<Note>("notes.update", { id: byTitle[title]!.id, pinned: true });
      expect(res.status).toBe(200);
      expect(res.data).toMatchObject({ pinned: true, version: 1, updatedAt: byTitle[title]!.updatedAt });
    }
    for (const limit of [1, 2, 3, 20]) {
      expect(await listTitles(client, { limit })).toEqual(["charlie", "delta", "echo", "bravo", "Alpha"]);
      expect(await listTitles(client, { limit, sort: "title" })).toEqual([
        "charlie",
        "delta",
        "Alpha",
        "bravo",
        "echo",
      ]);
      expect(await listTitles(client, { limit, sort: "created" })).toEqual([
        "charlie",
        "delta",
        "echo",
        "bravo",
        "Alpha",
      ]);
    }
    // A pin does not undo an edit made meanwhile, nor does the edit need to know of the pin.
    const edited = await client.mutation<Note>("notes.update", {
      id: byTitle.delta!.id,
      version: 1,
      description: "edited",
    });
    expect(edited.data).toMatchObject({ pinned: true, version: 2, description: "edited" });
    const unpinned = await client.mutation<Note>("notes.update", { id: byTitle.delta!.id, pinned: false });
    expect(unpinned.data).toMatchObject({ pinned: false, version: 2, description: "edited" });
    // Without a version, only a pin is accepted.
    const noVersion = await client.mutation("notes.update", { id: byTitle.delta!.id, title: "x" });
    expect(noVersion.status).toBe(400);
    expect(noVersion.error!.data.fieldErrors).toHaveProperty("version");
    const other = await signedIn();
    expect((await other.client.mutation("notes.update", { id: byTitle.echo!.id, pinned: true })).status).toBe(404);
  });
});

describe("search filters", () => {
  let client: TestClient;
  beforeAll(async () => {
    ({ client } = await signedIn());
    const day = (d: string) => new Date(`${d}T12:00:00Z`);
    const rows: [string, string, string[], boolean, string][] = [
      ["Coffee plan", "- [ ] buy beans\n- [x] grind", ["work"], true, "2026-01-10"],
      ["Coffee notes", "red car in the coffee shop", ["old", "work"], false, "2026-02-10"],
      ["Tea", "car red, then coffee", [], false, "2025-12-20"],
      ["Roadmap", "the coffee roadmap - [ ] not a task", ["work"], false, "2026-01-31"],
    ];
    for (const [title, description, tags, pinned, when] of rows) {
      const note = await createNote(client, { title, description, tags, pinned });
      await t.server.runtime.deps.db.sequelize.query("UPDATE notes SET updated_at = :at WHERE id = :id", {
        replacements: { at: day(when), id: note.id },
      });
    }
  });

  it.each([
    // Title hits first, then the most recently edited.
    ["tag:work coffee", ["Coffee notes", "Coffee plan", "Roadmap"]],
    ["tag:work -tag:old", ["Roadmap", "Coffee plan"]],
    ["-tag:work", ["Tea"]],
    ["is:pinned", ["Coffee plan"]],
    ["is:pinned coffee", ["Coffee plan"]],
    ["has:task", ["Coffee plan"]],
    ["after:2026-01-01 before:2026-01-31", ["Coffee plan"]],
    ["after:2026-01-31", ["Coffee notes", "Roadmap"]],
    ["before:2026-01-01", ["Tea"]],
    ["coffee in:title", ["Coffee notes", "Coffee plan"]],
    ['"red car"', ["Coffee notes"]],
    ['"car red" coffee', ["Tea"]],
    ["tag:missing coffee", []],
    ["TAG:WORK IS:PINNED", ["Coffee plan"]],
  ])("%s", async (q, expected) => {
    expect(await searchTitles(client, q)).toEqual(expected);
  });

  it("treats anything it does not understand as words, never an error", async () => {
    for (const q of [
      "before:2026-02-30",
      "after:yesterday",
      "is:nothing",
      "in:body",
      "tag:",
      '"',
      "-",
      'tag:"',
      "x:y:z",
    ]) {
      const res = await client.query("notes.search", { q });
      expect(res.status, q).toBe(200);
    }
    // A bad date is a word: found where the text has it.
    await createNote(client, { title: "Deadline", description: "due before:soon" });
    expect(await searchTitles(client, "before:soon")).toEqual(["Deadline"]);
  });
});

describe("previews", () => {
  it("list excerpts and search snippets are plain text, with the highlight on the right words", async () => {
    const { client } = await signedIn();
    const description = [
      "# Meeting",
      "**Attendees:** Ana, _Bo_",
      "",
      "| Name | Role |",
      "|---|---|",
      "| Ana | lead |",
      "",
      "```js",
      "const budget = 1;",
      "```",
      "See [the plan](https://example.test/plan) &amp; `code`",
    ].join("\n");
    await createNote(client, { title: "Weekly", description });
    const [item] = (await client.query<{ items: NoteSummary[] }>("notes.list")).data.items;
    expect(item!.excerpt).toBe("Meeting Attendees: Ana, Bo Name Role Ana lead const budget = 1; See the plan & code");
    expect(item!.excerpt).not.toMatch(/[*#|`]|---/);
    const [hit] = (await search(client, "plan")).items;
    expect(textOf(hit!.snippet)).toBe(item!.excerpt);
    expect(highlighted(hit!.snippet)).toEqual(["plan"]);

    // A long note: the snippet is taken around the hit, far into the text, still plain.
    const long = `${"**filler** words here. ".repeat(800)}\n\nthe **needle** is _here_\n\n${"more text ".repeat(500)}`;
    await createNote(client, { title: "Long", description: long });
    const [far] = (await search(client, "needle")).items;
    expect(highlighted(far!.snippet)).toEqual(["needle"]);
    expect(textOf(far!.snippet)).toContain("the needle is here");
    expect(textOf(far!.snippet)).not.toContain("*");
  });
});

describe("bulk actions", () => {
  it("trash, restore, tag, untag and purge several notes in one request", async () => {
    const { client } = await signedIn();
    // One after another, so the list's newest-first order is theirs.
    const notes: Note[] = [];
    for (const title of ["n1", "n2", "n3"]) notes.push(await createNote(client, { title }));
    const ids = notes.map((n) => n.id);
    const bulk = (input: Record<string, unknown>) => client.mutation<{ affected: number }>("notes.bulk", input);

    expect((await bulk({ ids: [ids[0], ids[1]], action: "tag", tag: "Batch" })).data).toEqual({ affected: 2 });
    expect(await listTitles(client, { tag: "batch" })).toEqual(["n2", "n1"]);
    // Tagging bumps the version, so an editor open on the older one cannot write the tags back.
    expect((await client.query<Note>("notes.get", { id: ids[0] })).data).toMatchObject({ version: 2, tags: ["Batch"] });
    expect((await bulk({ ids, action: "untag", tag: "BATCH" })).data).toEqual({ affected: 2 });
    expect(await tagsOf(client)).toEqual([]);

    expect((await bulk({ ids, action: "trash" })).data).toEqual({ affected: 3 });
    expect(await listTitles(client)).toEqual([]);
    expect((await bulk({ ids: [ids[2]], action: "restore" })).data).toEqual({ affected: 1 });
    expect(await listTitles(client)).toEqual(["n3"]);
    // Purge only from the trash: with a note outside it, nothing happens.
    const refused = await bulk({ ids, action: "purge" });
    expect(refused.status).toBe(409);
    expect(refused.error!.data.reason).toBe("not_in_trash");
    expect((await bulk({ ids: [ids[0], ids[1]], action: "purge" })).data).toEqual({ affected: 2 });
    expect((await client.query("notes.get", { id: ids[0] })).status).toBe(404);
    expect((await client.query("notes.get", { id: ids[2] })).status).toBe(200);
  });

  it("changes nothing when one id is someone else's, and refuses empty, oversized or unknown requests", async () => {
    const a = await signedIn();
    const b = await signedIn();
    const mine = await createNote(a.client, { title: "mine" });
    const theirs = await createNote(b.client, { title: "theirs" });
    const mixed = await a.client.mutation("notes.bulk", { ids: [mine.id, theirs.id], action: "trash" });
    expect(mixed.status).toBe(404);
    expect(await listTitles(a.client)).toEqual(["mine"]);
    expect(await listTitles(b.client)).toEqual(["theirs"]);

    const tooMany = Array.from({ length: 501 }, () => mine.id);
    for (const input of [
      { ids: [], action: "trash" },
      { ids: tooMany, action: "trash" },
      { ids: [mine.id], action: "explode" },
      { ids: [mine.id], action: "tag" },
      { ids: [mine.id], action: "tag", tag: "x".repeat(41) },
    ]) {
      const res = await a.client.mutation("notes.bulk", input);
      expect(res.status, JSON.stringify(input).slice(0, 80)).toBe(400);
    }
    // 500 of the same id is one note.
    const same = await a.client.mutation("notes.bulk", { ids: tooMany.slice(1), action: "tag", tag: "one" });
    expect(same.data).toEqual({ affected: 1 });
  });
});

describe("exporting a selection", () => {
  it("exports only the selected notes of the caller, from a form post", async () => {
    const a = await signedIn();
    const b = await signedIn();
    const mine = await Promise.all(["one", "two", "three"].map((title) => createNote(a.client, { title })));
    const theirs = await createNote(b.client, { title: "theirs" });
    const form = new URLSearchParams([
      ["format", "json"],
      ["ids", mine[0]!.id],
      ["ids", mine[2]!.id],
      ["ids", theirs.id],
    ]);
    const res = await a.client.fetch("/api/v1/notes/export", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form,
    });
    expect(res.status).toBe(200);
    const rows = (await res.json()) as { id: string; title: string }[];
    expect(rows.map((n) => n.id).sort()).toEqual([mine[0]!.id, mine[2]!.id].sort());
    expect(rows.map((n) => n.title).sort()).toEqual(["one", "three"]);

    const none = await a.client.fetch("/api/v1/notes/export", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams([["format", "json"]]),
    });
    expect(none.status).toBe(400);
    const tooMany = new URLSearchParams([
      ["format", "json"],
      ...Array.from({ length: 501 }, (): [string, string] => ["ids", mine[0]!.id]),
    ]);
    expect(
      (
        await a.client.fetch("/api/v1/notes/export", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: tooMany,
        })
      ).status,
    ).toBe(400);
  });
});
