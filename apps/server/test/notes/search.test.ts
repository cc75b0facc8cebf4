// Search as a person types it: word prefixes, any case and accent, every word required, title hits
// first, highlighted matches, and no input at all that turns into an error.
import { createMigrator, newId } from "@notebox/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import {
  createNote,
  highlighted,
  search,
  searchTitles,
  textOf,
  trashNote,
  walkPages,
  type Note,
  type SearchHit,
} from "../support/notes";
import { createUser, signIn, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

/** A fresh person for each test, so one test's notes never show up in another's results. */
async function newWriter(notes: { title: string; description?: string }[] = []) {
  const client = await signIn(t, (await createUser(t)).account);
  const created: Note[] = [];
  for (const note of notes) created.push(await createNote(client, note));
  return { client, notes: created };
}

describe("matching", () => {
  let client: TestClient;
  beforeAll(async () => {
    ({ client } = await newWriter([
      { title: "Morning coffee", description: "A double espresso with steamed milk." },
      { title: "Café crème", description: "Ordered at the corner place." },
      { title: "Lunch", description: "cafe au lait and a croissant" },
      { title: "CAFÉ NOIR", description: "no sugar" },
      { title: "Red apple", description: "crisp" },
      { title: "Green apple", description: "sour" },
      { title: "Red car", description: "fast" },
    ]));
  });

  it("finds words by their first letters", async () => {
    expect(await searchTitles(client, "espr")).toEqual(["Morning coffee"]);
    expect(await searchTitles(client, "espresso")).toEqual(["Morning coffee"]);
    expect(await searchTitles(client, "stea")).toEqual(["Morning coffee"]);
  });

  it("matches the start of a word, not its middle", async () => {
    expect(await searchTitles(client, "press")).toEqual([]);
    expect(await searchTitles(client, "ple")).toEqual([]);
  });

  it("ignores case and accents in the query and in the notes", async () => {
    const cafes = ["Café crème", "CAFÉ NOIR", "Lunch"].sort();
    for (const q of ["cafe", "café", "CAFÉ", "Cafe", "CAFE", "cafè"]) {
      expect((await searchTitles(client, q)).sort(), q).toEqual(cafes);
    }
    expect(await searchTitles(client, "creme")).toEqual(["Café crème"]);
    expect(await searchTitles(client, "CRÈME")).toEqual(["Café crème"]);
  });

  it("requires every word of the query", async () => {
    expect((await searchTitles(client, "apple")).sort()).toEqual(["Green apple", "Red apple"]);
    expect(await searchTitles(client, "red apple")).toEqual(["Red apple"]);
    expect(await searchTitles(client, "apple red")).toEqual(["Red apple"]);
    expect(await searchTitles(client, "red appl cris")).toEqual(["Red apple"]);
    expect(await searchTitles(client, "red apple fast")).toEqual([]);
  });

  it("matches words spread over the title and the text", async () => {
    expect(await searchTitles(client, "morning milk")).toEqual(["Morning coffee"]);
  });

  it("finds short terms of one and two letters on every database, at word starts only", async () => {
    expect(await searchTitles(client, "es")).toEqual(["Morning coffee"]);
    expect((await searchTitles(client, "a")).sort()).toEqual([
      "Café crème",
      "Green apple",
      "Lunch",
      "Morning coffee",
      "Red apple",
    ]);
    expect(await searchTitles(client, "gr ap")).toEqual(["Green apple"]);
    expect(await searchTitles(client, "re ca")).toEqual(["Red car"]);
    expect(await searchTitles(client, "ss")).toEqual([]);
    expect(await searchTitles(client, "pp")).toEqual([]);
    expect(await searchTitles(client, "x")).toEqual([]);
  });

  it("finds a long word typed to any length, within and past the prefix indexes", async () => {
    const { client: writer } = await newWriter([
      { title: "Meetinghouse repairs", description: "roof" },
      { title: "Weekly", description: "two meetings about the Überweisungsauftrag" },
      { title: "Meet the team", description: "" },
    ]);
    for (let length = 1; length <= "meetinghouse".length; length++) {
      const typed = "meetinghouse".slice(0, length);
      const expected =
        length <= 4
          ? ["Meet the team", "Meetinghouse repairs", "Weekly"]
          : length <= 7
            ? ["Meetinghouse repairs", "Weekly"]
            : ["Meetinghouse repairs"];
      expect((await searchTitles(writer, typed)).sort(), typed).toEqual(expected);
    }
    expect(await searchTitles(writer, "meetings")).toEqual(["Weekly"]);
    for (const typed of ["uberwe", "Uberwei", "überweis", "uberweisung", "UBERWEISUNGSAUFTRAG", "uberweisungsx"]) {
      expect(await searchTitles(writer, typed), typed).toEqual(typed.endsWith("x") ? [] : ["Weekly"]);
    }
  });

  it("finds words joined by an underscore", async () => {
    const { client: writer } = await newWriter([
      { title: "Config", description: "set max_connections and arabica_blend" },
    ]);
    expect(await searchTitles(writer, "arabica_blend")).toEqual(["Config"]);
    expect(await searchTitles(writer, "connections")).toEqual(["Config"]);
  });
});

describe("ranking and highlights", () => {
  it("ranks a note with the word in its title before notes that only mention it in the text", async () => {
    const { client } = await newWriter([
      {
        title: "Orchard diary",
        description: `${"The kumquat tree again: kumquat, kumquat and more kumquat. ".repeat(15)}`,
      },
      { title: "Kumquat", description: "" },
      { title: "Market list", description: "one kumquat" },
      { title: "Filler one", description: "nothing to see" },
      { title: "Filler two", description: "still nothing" },
    ]);
    const titles = await searchTitles(client, "kumquat");
    expect(titles[0]).toBe("Kumquat");
    expect(titles.slice(1).sort()).toEqual(["Market list", "Orchard diary"]);
    expect((await searchTitles(client, "kumq"))[0]).toBe("Kumquat");
  });

  it("ranks the title hit first even against a text repeating the word a thousand times", async () => {
    const { client } = await newWriter([
      { title: "Walnut", description: "" },
      { title: "Walnut essay", description: "" },
      { title: "Nut log", description: "walnut ".repeat(1000) },
      { title: "Filler", description: "nothing" },
    ]);
    expect((await searchTitles(client, "walnut")).slice(0, 2).sort()).toEqual(["Walnut", "Walnut essay"]);
  });

  it("puts notes whose title holds more of the words first, then the most recently edited", async () => {
    const { client, notes } = await newWriter([
      { title: "Red apple", description: "" },
      { title: "Basket", description: "red apple" },
      { title: "Red car", description: "an apple inside" },
      { title: "Apple pie", description: "red berries" },
      { title: "Crate", description: "apple, red" },
    ]);
    expect(await searchTitles(client, "red apple")).toEqual(["Red apple", "Apple pie", "Red car", "Crate", "Basket"]);
    for (const note of [notes[1]!, notes[2]!]) {
      const res = await client.mutation("notes.update", {
        id: note.id,
        version: 1,
        description: `${note.description} (edited)`,
      });
      expect(res.status).toBe(200);
    }
    expect(await searchTitles(client, "red apple")).toEqual(["Red apple", "Red car", "Apple pie", "Basket", "Crate"]);
  });

  it("marks the matched start of each word in the title and the snippet", async () => {
    const { client } = await newWriter([
      {
        title: "Espresso machines compared",
        description: "Which espresso maker? ESPRESSO or not, an express decision.",
      },
    ]);
    const [hit] = (await search(client, "espr mach")).items;
    expect(hit!.titleHighlights).toEqual([
      { text: "Espr", highlight: true },
      { text: "esso ", highlight: false },
      { text: "mach", highlight: true },
      { text: "ines compared", highlight: false },
    ]);
    expect(highlighted(hit!.snippet)).toEqual(["espr", "ESPR"]);
    expect(textOf(hit!.snippet)).toBe("Which espresso maker? ESPRESSO or not, an express decision.");
  });

  it("highlights the accented word the unaccented query found, in its original spelling", async () => {
    const { client } = await newWriter([{ title: "Le Café", description: "un café crème, s'il vous plaît" }]);
    const [hit] = (await search(client, "cafe CREME")).items;
    expect(hit!.titleHighlights).toEqual([
      { text: "Le ", highlight: false },
      { text: "Café", highlight: true },
    ]);
    expect(highlighted(hit!.snippet)).toEqual(["café", "crème"]);
  });

  it("cuts the snippet of a long text around the first match", async () => {
    const before = Array.from({ length: 300 }, (_, i) => `lorem${i}`).join(" ");
    const after = Array.from({ length: 300 }, (_, i) => `ipsum${i}`).join(" ");
    const { client } = await newWriter([{ title: "Long read", description: `${before} zebra crossing ${after}` }]);
    const [hit] = (await search(client, "zebra")).items;
    const segments = hit!.snippet;
    expect(segments[0]).toEqual({ text: "…", highlight: false });
    expect(segments[segments.length - 1]).toEqual({ text: "…", highlight: false });
    expect(highlighted(segments)).toEqual(["zebra"]);
    const text = textOf(segments);
    expect(text.length).toBeLessThanOrEqual(200);
    expect(text).toContain("zebra crossing");
    expect(text).toContain("lorem299");
  });

  it("finds the snippet of a very long text wherever its first match is, a word cut by no boundary", async () => {
    // The first match starts 3 characters before 2,000 (where the first part looked at ends), or
    // far into a text of 60,000 characters; the accented, capitalised spelling is found as typed.
    const filler = (length: number) => "lorem ipsum ".repeat(Math.ceil(length / 12)).slice(0, length - 1);
    const { client } = await newWriter([
      { title: "Straddling", description: `${filler(1997)} Zèbrafish swim ${filler(5000)}` },
      { title: "Far", description: `${filler(40_000)} Zèbrafish swim ${filler(20_000)}` },
    ]);
    const hits = (await search(client, "zebrafish")).items;
    expect(hits.map((h) => h.title).sort()).toEqual(["Far", "Straddling"]);
    for (const hit of hits) {
      expect(highlighted(hit.snippet)).toEqual(["Zèbrafish"]);
      expect(textOf(hit.snippet)).toContain("Zèbrafish swim");
    }
  });
});

describe("keeping people apart", () => {
  it("never finds another person's notes, even when their ids end alike", async () => {
    const { client, notes } = await newWriter([{ title: "Mine", description: "platypus" }]);
    const mine = (await t.models.Note.findByPk(notes[0]!.id))!;
    // The search index groups people by the end of their id; share it.
    const lookalikeId = `${newId().slice(0, -5)}${mine.ownerId.slice(-5)}`;
    const now = new Date();
    await t.models.User.create({
      id: lookalikeId,
      username: `lookalike${lookalikeId.slice(0, 8)}`,
      usernameKey: `lookalike${lookalikeId.slice(0, 8)}`,
      email: `lookalike-${lookalikeId}@example.test`,
      passwordHash: "unusable",
      role: "user",
      emailVerifiedAt: now,
      disabledAt: null,
      tokensValidAfter: now,
      passwordChangedAt: now,
    });
    await t.models.Note.bulkCreate(
      ["Secret platypus", "Secret plans"].map((title) => ({
        id: newId(),
        ownerId: lookalikeId,
        title,
        description: "platypus secret",
        createdAt: now,
        updatedAt: now,
      })),
    );
    expect(await searchTitles(client, "platypus")).toEqual(["Mine"]);
    expect(await searchTitles(client, "p")).toEqual(["Mine"]);
    expect(await searchTitles(client, "secret")).toEqual([]);
  });
});

describe("many searches at once", () => {
  it("answers every one of 60 searches sent at once by one person, each with its own hits, and another person's meanwhile", async () => {
    const words = Array.from({ length: 12 }, (_, i) => `quokka${String.fromCharCode(97 + i)}`);
    const { client } = await newWriter(
      words.map((word) => ({ title: `About ${word}`, description: `the ${word} note` })),
    );
    const other = await newWriter([{ title: "Elsewhere", description: "quokkaa too" }]);
    // Many more than the searches let into the database at once (the others wait their turn).
    const queries = Array.from({ length: 60 }, (_, i) => words[i % words.length]!);
    const [mine, theirs] = await Promise.all([
      Promise.all(queries.map((q) => searchTitles(client, q))),
      searchTitles(other.client, "quokkaa"),
    ]);
    expect(mine).toEqual(queries.map((word) => [`About ${word}`]));
    expect(theirs).toEqual(["Elsewhere"]);
  });
});

describe("keeping up with changes", () => {
  it("leaves trashed notes out and finds them again once restored", async () => {
    const { client, notes } = await newWriter([{ title: "Gazebo plans", description: "timber and screws" }]);
    expect(await searchTitles(client, "gazebo")).toEqual(["Gazebo plans"]);
    await trashNote(client, notes[0]!.id);
    expect(await searchTitles(client, "gazebo")).toEqual([]);
    expect(await searchTitles(client, "timber")).toEqual([]);
    expect((await client.mutation("notes.restore", { id: notes[0]!.id })).status).toBe(200);
    expect(await searchTitles(client, "gazebo")).toEqual(["Gazebo plans"]);
  });

  it("finds an edit at once and forgets the words it replaced", async () => {
    const { client, notes } = await newWriter([{ title: "Gazpacho", description: "tomatoes and cucumber" }]);
    expect(await searchTitles(client, "gazpacho")).toEqual(["Gazpacho"]);
    const edited = await client.mutation("notes.update", {
      id: notes[0]!.id,
      version: 1,
      title: "Borscht",
      description: "beetroot and dill",
    });
    expect(edited.status).toBe(200);
    expect(await searchTitles(client, "borscht")).toEqual(["Borscht"]);
    expect(await searchTitles(client, "beetroot")).toEqual(["Borscht"]);
    expect(await searchTitles(client, "gazpacho")).toEqual([]);
    expect(await searchTitles(client, "cucumber")).toEqual([]);
  });

  it("forgets a purged note", async () => {
    const { client, notes } = await newWriter([{ title: "Shredded memo", description: "confidential" }]);
    await trashNote(client, notes[0]!.id);
    await client.mutation("notes.trash.purge", { id: notes[0]!.id });
    expect(await searchTitles(client, "shredded")).toEqual([]);
    expect((await client.mutation("notes.restore", { id: notes[0]!.id })).status).toBe(404);
  });
});

describe("whatever is typed", () => {
  let client: TestClient;
  beforeAll(async () => {
    ({ client } = await newWriter([
      {
        title: "Espresso notes",
        description: "Dark roast, 18 g in, 36 g out. Don't rush it; 100% arabica_blend \\ done.",
      },
      { title: "Привет мир", description: "Первая заметка на русском." },
      { title: "東京", description: "東京タワーと浅草" },
      { title: "Emoji 😀 party", description: "🎉 balloons" },
    ]));
  });

  const specials = [
    '"',
    '"espresso"',
    '"unbalanced',
    "*",
    "espresso*",
    "-",
    "-espresso",
    "+",
    "+espresso",
    "(",
    ")",
    "(espresso)",
    "NEAR",
    "NEAR(espresso roast)",
    "espresso NEAR roast",
    "OR",
    "espresso OR roast",
    "AND",
    "espresso AND roast",
    "NOT",
    "NOT espresso",
    "%",
    "100%",
    "_",
    "arabica_blend",
    "\\",
    "'",
    "don't",
    "'; DROP TABLE notes; --",
    "😀",
    "emoji 😀",
    "👩‍👩‍👧‍👦🏳️‍🌈",
    "^espresso",
    "title:espresso",
    "owner_key:u0",
    "@espresso",
    "~espresso <roast >dark",
    "a".repeat(5_000),
    Array.from({ length: 1_000 }, (_, i) => `w${i}`).join(" "),
    // Non-ASCII text is percent-encoded in the GET URL, six bytes a character: 2,000 of them is
    // about as much as Node's 16 KB request-head limit lets through (see the report on 431).
    "é".repeat(2_000),
    "東京".repeat(600),
    "e\u0301spresso",
    "\u200b",
    "\ufeffespresso",
  ];

  for (const q of specials) {
    const name = q.length > 40 ? `${JSON.stringify(q.slice(0, 12))}… (${q.length} characters)` : JSON.stringify(q);
    it(`answers ${name} with results or an empty list`, async () => {
      const res = await client.query<{ items: unknown[]; nextCursor: string | null }>("notes.search", { q });
      expect(res.status, JSON.stringify(res.error)).toBe(200);
      expect(Array.isArray(res.data.items)).toBe(true);
    });
  }

  it("reads operators and punctuation as plain words", async () => {
    for (const q of [
      '"espresso"',
      "espresso*",
      "-espresso",
      "+espresso",
      "(espresso)",
      "^espresso",
      "e\u0301spresso",
    ]) {
      expect(await searchTitles(client, q), q).toEqual(["Espresso notes"]);
    }
    expect(await searchTitles(client, "don't rush")).toEqual(["Espresso notes"]);
    expect(await searchTitles(client, "arabica")).toEqual(["Espresso notes"]);
    expect(await searchTitles(client, "100%")).toEqual(["Espresso notes"]);
    expect(await searchTitles(client, "emoji 😀")).toEqual(["Emoji 😀 party"]);
  });

  it("answers an empty or blank query with an empty list", async () => {
    for (const q of ["", " ", "   \t ", "\n", "😀", "%", "*", "-"]) {
      const res = await client.query("notes.search", { q });
      expect(res.status, JSON.stringify(q)).toBe(200);
      expect(res.data, JSON.stringify(q)).toEqual({ items: [], nextCursor: null });
    }
  });

  it("finds Cyrillic words by prefix, in any case", async () => {
    expect(await searchTitles(client, "Привет")).toEqual(["Привет мир"]);
    expect(await searchTitles(client, "прив")).toEqual(["Привет мир"]);
    expect(await searchTitles(client, "ПРИВЕТ МИР")).toEqual(["Привет мир"]);
    expect(await searchTitles(client, "заметк")).toEqual(["Привет мир"]);
    expect(await searchTitles(client, "ми")).toEqual(["Привет мир"]);
  });

  it("accepts Japanese queries", async () => {
    for (const q of ["東京", "東", "浅草", "東京タワー"]) {
      const res = await client.query("notes.search", { q });
      expect(res.status, q).toBe(200);
    }
  });

  it("refuses a query that is not text with a field error", async () => {
    for (const input of [{}, { q: 42 }, { q: null }, { q: ["espresso"] }]) {
      const res = await client.query("notes.search", input);
      expect(res.status, JSON.stringify(input)).toBe(400);
      expect(res.error!.data.fieldErrors!.q).toBeTruthy();
    }
  });
});

describe("pages of results", () => {
  it("pages through the hits with the cursor, each once", async () => {
    const { client, notes } = await newWriter(
      Array.from({ length: 8 }, (_, i) => ({ title: `Tomato batch ${i + 1}`, description: "tomato sauce" })),
    );
    await newWriter([{ title: "Someone else's tomato", description: "" }]);
    const seen: string[] = [];
    let cursor: string | undefined;
    const sizes: number[] = [];
    do {
      const page = await search(client, "tomato", { limit: 3, ...(cursor ? { cursor } : {}) });
      sizes.push(page.items.length);
      seen.push(...page.items.map((h) => h.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(sizes).toEqual([3, 3, 2]);
    expect(seen).toHaveLength(new Set(seen).size);
    expect(seen.sort()).toEqual(notes.map((n) => n.id).sort());
  });

  it("lists a two-letter query's hits once each, title hits first on the first page", async () => {
    const { user, account } = await createUser(t);
    const client = await signIn(t, account);
    const base = Date.UTC(2025, 5, 1);
    await t.models.Note.bulkCreate(
      Array.from({ length: 130 }, (_, i) => ({
        id: newId(),
        ownerId: user.id,
        ...(i % 2 ? { title: `Note ${i}`, description: "an alpaca" } : { title: `Alpaca ${i}`, description: "wool" }),
        createdAt: new Date(base + i * 1000),
        updatedAt: new Date(base + i * 1000),
      })),
    );
    const first = (await search(client, "al")).items.map((h) => h.title);
    expect(first).toEqual(Array.from({ length: 20 }, (_, k) => `Alpaca ${128 - 2 * k}`));
    // Pages of 30 cross from the title hits to the others mid-page (the third) and then start
    // past them (the fourth and fifth): every page continues exactly where the last one stopped.
    const all = (await walkPages<SearchHit>(client, "notes.search", { q: "al", limit: 30 })).flat().map((h) => h.title);
    const newestFirst = (odd: number, name: string) =>
      Array.from({ length: 65 }, (_, k) => `${name} ${128 + odd - 2 * k}`);
    expect(all).toEqual([...newestFirst(0, "Alpaca"), ...newestFirst(1, "Note")]);
    const titled = (await walkPages<SearchHit>(client, "notes.search", { q: "in:title al", limit: 30 })).flat();
    expect(titled.map((h) => h.title)).toEqual(newestFirst(0, "Alpaca"));
  });

  it("refuses a forged cursor with a field error", async () => {
    const { client } = await newWriter();
    for (const cursor of ["garbage", Buffer.from('{"o":-5}').toString("base64url")]) {
      const res = await client.query("notes.search", { q: "tomato", cursor });
      expect(res.status, cursor).toBe(400);
      expect(res.error!.data.fieldErrors!.cursor).toBeTruthy();
    }
  });
});

describe("several words in hundreds of notes", () => {
  // 300 notes holding all of "kestrel lantern meadow" in the text, each with some of the three in
  // its title too (all, two, one or none), edited in an order unrelated to that: more hits than
  // SQLite ranks in code (packages/db/src/search/sqlite.ts), so the database ranks them.
  const words = ["kestrel", "lantern", "meadow"];
  let client: TestClient;
  let expected: string[];
  beforeAll(async () => {
    const { user, account } = await createUser(t);
    client = await signIn(t, account);
    const base = Date.UTC(2025, 5, 1);
    const rows = Array.from({ length: 300 }, (_, i) => {
      const inTitle = words.filter((_, w) => ((i * 5 + 3) >> w) & 1);
      const at = new Date(base + ((i * 37) % 300) * 1000);
      return {
        id: newId(),
        ownerId: user.id,
        title: `Walk ${i} ${inTitle.join(" ")}`.trim(),
        description: `${words.join(" ")} and the common ground of every walk`,
        createdAt: at,
        updatedAt: at,
        inTitle: inTitle.length,
      };
    });
    await t.models.Note.bulkCreate(rows.map(({ inTitle: _, ...row }) => row));
    expected = [...rows]
      .sort((a, b) => b.inTitle - a.inTitle || b.updatedAt.getTime() - a.updatedAt.getTime())
      .map((row) => row.title);
  }, 60_000);

  it("pages them with more of the words in the title first, then the most recently edited", async () => {
    for (const q of ["kestrel lantern meadow", "meadow kestrel lant"]) {
      const pages = await walkPages<SearchHit>(client, "notes.search", { q, limit: 40 });
      expect(
        pages.flat().map((h) => h.title),
        q,
      ).toEqual(expected);
    }
  });

  it("ranks them the same with words that every note holds in its text added", async () => {
    // "common ground walk" are in every note's text, and "walk" in every title: the same order.
    const pages = await walkPages<SearchHit>(client, "notes.search", {
      q: "kestrel lantern meadow common ground",
      limit: 100,
    });
    expect(pages.flat().map((h) => h.title)).toEqual(expected);
  });
});

describe("a person with thousands of notes", () => {
  let client: TestClient;
  const titlesOf = (hits: SearchHit[]) => hits.map((h) => h.title);
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

  // Oldest first, one second apart: 1,010 notes about wombats (the 3 oldest also mention a
  // zyzzyva), 320 with "Quokka" in the title, 70 mentioning a quokka in the text, then 1,050
  // newer notes about nothing, so every hit is older than the 1,000 most recent notes.
  beforeAll(async () => {
    const { user, account } = await createUser(t);
    client = await signIn(t, account);
    const base = Date.UTC(2025, 0, 1);
    const note = (i: number): { title: string; description: string } =>
      i < 1010
        ? { title: `Burrow ${i}`, description: `wombat tracks near burrow ${i}${i < 3 ? " and a zyzzyva" : ""}` }
        : i < 1330
          ? { title: `Quokka ${i}`, description: "island" }
          : i < 1400
            ? { title: `Island ${i}`, description: "a quokka smiles" }
            : { title: `Filler ${i}`, description: "nothing here" };
    const rows = range(0, 2450).map((i) => ({
      id: newId(),
      ownerId: user.id,
      ...note(i),
      createdAt: new Date(base + i * 1000),
      updatedAt: new Date(base + i * 1000),
    }));
    for (let i = 0; i < rows.length; i += 500) await t.models.Note.bulkCreate(rows.slice(i, i + 500));
  }, 60_000);

  it("finds a word only old notes hold, newest first", async () => {
    expect(await searchTitles(client, "zyzzyva")).toEqual(["Burrow 2", "Burrow 1", "Burrow 0"]);
  });

  it("pages a word in the text of over a thousand older notes newest first", async () => {
    const first = await search(client, "wombat");
    expect(titlesOf(first.items)).toEqual(
      range(990, 1010)
        .reverse()
        .map((i) => `Burrow ${i}`),
    );
    const second = await search(client, "wombat", { cursor: first.nextCursor! });
    expect(titlesOf(second.items)).toEqual(
      range(970, 990)
        .reverse()
        .map((i) => `Burrow ${i}`),
    );
  });

  it("ranks title hits first and returns each hit once for a word in hundreds of titles", async () => {
    expect(titlesOf((await search(client, "quokka")).items)).toEqual(
      range(1310, 1330)
        .reverse()
        .map((i) => `Quokka ${i}`),
    );
    const pages = await walkPages<SearchHit>(client, "notes.search", { q: "quokka", limit: 100 });
    const titles = pages.flat().map((h) => h.title);
    expect(titles).toHaveLength(390);
    expect(new Set(titles).size).toBe(390);
    expect([...titles].sort()).toEqual(
      [...range(1010, 1330).map((i) => `Quokka ${i}`), ...range(1330, 1400).map((i) => `Island ${i}`)].sort(),
    );
  });

  it("pages past the last title hit of a word in hundreds of titles", async () => {
    const pages = await walkPages<SearchHit>(client, "notes.search", { q: "quokka", limit: 20 });
    expect(
      pages
        .slice(0, 16)
        .flat()
        .every((h) => h.title.startsWith("Quokka")),
    ).toBe(true);
    expect(pages[16]!.map((h) => h.title)).toEqual(
      range(1380, 1400)
        .reverse()
        .map((i) => `Island ${i}`),
    );
    expect(new Set(pages.flat().map((h) => h.id)).size).toBe(390);
  });

  it("pages two words matching over a thousand notes newest first, each once", async () => {
    const first = await search(client, "wombat burrow");
    expect(titlesOf(first.items)).toEqual(
      range(990, 1010)
        .reverse()
        .map((i) => `Burrow ${i}`),
    );
    const typing = await walkPages<SearchHit>(client, "notes.search", { q: "nothing h", limit: 100 });
    const titles = typing.flat().map((h) => h.title);
    expect(titles.slice(0, 3)).toEqual(["Filler 2449", "Filler 2448", "Filler 2447"]);
    expect(titles).toHaveLength(1050);
    expect(new Set(titles).size).toBe(1050);
  });

  it("answers a one-letter query with a full page", async () => {
    const page = await search(client, "q");
    expect(page.items).toHaveLength(20);
    expect(page.items.every((h) => /quokka/i.test(h.title))).toBe(true);
  });
});

describe("upgrading a database that already holds notes", () => {
  it("indexes the notes written before the search migration, trash excepted", async () => {
    // Written first: migrating down also removes later migrations' columns, which the running
    // server's models (sign-in, say) expect. The search migration's down drops the index, so the
    // notes are then exactly as a database from before it holds them.
    const { client, notes } = await newWriter([
      { title: "Heirloom tomato", description: "seeds saved from last year" },
      { title: "Heirloom bean", description: "climbing" },
    ]);
    await trashNote(client, notes[1]!.id);
    const migrator = createMigrator(t.server.runtime.deps.db.sequelize);
    await migrator.down({ to: "2026-11-24T00-00-notes-search" });
    try {
      await migrator.up();
      const { sequelize } = t.server.runtime.deps.db;
      if (sequelize.getDialect() === "sqlite") {
        // Words typed to 7 and 8 letters are read through prefix indexes of their own.
        const [[fts]] = (await sequelize.query("SELECT sql FROM sqlite_master WHERE name = 'notes_fts'")) as [
          { sql: string }[],
          unknown,
        ];
        expect(fts!.sql).toContain("prefix='1 2 3 4 5 6 7 8'");
      }
      expect(await searchTitles(client, "heirloom")).toEqual(["Heirloom tomato"]);
      expect(await searchTitles(client, "seed")).toEqual(["Heirloom tomato"]);
      expect((await client.mutation("notes.restore", { id: notes[1]!.id })).status).toBe(200);
      expect(await searchTitles(client, "heirloom")).toEqual(["Heirloom bean", "Heirloom tomato"]);
    } finally {
      await migrator.up();
    }
  });
});
