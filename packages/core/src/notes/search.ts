// Ranked search over the owner's notes: words (as word prefixes), quoted phrases and filters
// (query.ts), found by the database's own full-text engine (@notebox/db's search, beside the
// migrations that build its indexes). Trash is excluded. Highlights and snippets are made here,
// on plain text, the same for both databases.
import {
  foldText,
  markdownText,
  rowIso,
  searchNoteRows,
  tagKey,
  tagNamesOf,
  type Dialect,
  type SearchRow,
} from "@notebox/db";
import type { CoreDeps } from "../deps";
import { createFairGate, type FairGate } from "../gate";
import { decodeCursor, encodeCursor, type Page } from "../pagination";
import { firstWordHit, highlight, searchTerms, snippet, type Segment } from "./highlight";
import { hasFilters, parseQuery } from "./query";
import { tagIdsOf } from "./tags";

export interface SearchHit {
  id: string;
  title: string;
  titleHighlights: Segment[];
  snippet: Segment[];
  tags: string[];
  pinned: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
}

const MAX_OFFSET = 1000;

type OffsetCursor = { o: number };
const isOffsetCursor = (x: unknown): x is OffsetCursor =>
  typeof x === "object" && x !== null && Number.isInteger((x as OffsetCursor).o) && (x as OffsetCursor).o >= 0;

/**
 * How many searches of this process ask the database at a time; the others wait for a turn here,
 * one person's after another's. A search is a few statements whose cost is mostly the database's
 * CPU: let in all at once (up to the pool's 10 connections on MariaDB/MySQL), they time-slice its
 * cores, the slowest searches stretch the most, and the pool has no connection left for a list or
 * a save. On SQLite two reader threads answer them, and a few more keep those threads busy while
 * snippets are made. 16 clients at once on 1,000,000 notes (bench/search, docs/benchmarks.md): p95
 * on MariaDB 66 → 56 ms with 4 at a time, on SQLite 40 → 34 ms with 6, the throughput within a
 * few percent; fewer at a time cost throughput.
 */
const SEARCHES_AT_ONCE: Record<Dialect, number> = {
  mysql: 4,
  sqlite: 6,
};
const searchGates = new WeakMap<CoreDeps["db"], FairGate>();

function searchGate(db: CoreDeps["db"]): FairGate {
  let gate = searchGates.get(db);
  if (!gate) {
    // A person typing has a search or two running; an API client may have many: past 100 waiting
    // for one person, or 1,000 in all, the answer is 429.
    gate = createFairGate({ concurrency: SEARCHES_AT_ONCE[db.dialect], maxQueue: 1000, maxPerCaller: 100 });
    searchGates.set(db, gate);
  }
  return gate;
}

/**
 * A note longer than this is cut to this much around its first hit before it is parsed for its
 * text: the snippet shows 180 characters of it, 60 before the hit, and parsing and highlighting
 * cost by the length (at 1,500 they cost more than the search query itself; bench/search).
 */
const WHOLE_TEXT = 400;

/** The first part of a long note folded to find its first hit, growing fourfold until one is found. */
const FOLDED_PART = 2000;

/**
 * About where the first hit of a long note is (folding may shorten the text a little before it),
 * or -1. The note is folded a part at a time from its start, so a hit near the start (most) costs
 * a fold of FOLDED_PART characters, not of the whole note: a word a part ends in the middle of is
 * only shorter there, so a hit found in a part is a hit of the whole text.
 */
function firstHitOf(description: string, terms: string[]): number {
  for (let length = FOLDED_PART; ; length *= 4) {
    const at = firstWordHit(foldText(description.slice(0, length)), terms);
    if (at !== -1 || length >= description.length) return at;
  }
}

/** The plain text around the first hit, highlighted. Parses at most WHOLE_TEXT characters of a note. */
function textSnippet(description: string, terms: string[]): Segment[] {
  if (description.length <= WHOLE_TEXT) return snippet(markdownText(description), terms);
  const at = Math.max(0, firstHitOf(description, terms));
  const from = Math.max(0, Math.min(at - WHOLE_TEXT / 3, description.length - WHOLE_TEXT));
  const segments = snippet(markdownText(description.slice(from, from + WHOLE_TEXT)), terms);
  if (from > 0 && segments[0]?.text !== "…") segments.unshift({ text: "…", highlight: false });
  if (segments[segments.length - 1]?.text !== "…") segments.push({ text: "…", highlight: false });
  return segments;
}

function toHit(row: SearchRow, terms: string[]): SearchHit {
  return {
    id: row.id,
    title: row.title,
    titleHighlights: highlight(row.title, terms),
    snippet: textSnippet(row.description, terms),
    tags: tagNamesOf(row),
    pinned: Boolean(row.pinned),
    version: Number(row.version),
    createdAt: rowIso(row.created_at),
    updatedAt: rowIso(row.updated_at),
  };
}

async function findNotes({
  deps,
  ownerId,
  q,
  cursor,
  limit = 20,
}: {
  deps: CoreDeps;
  ownerId: string;
  q: string;
  cursor?: string | null;
  limit?: number;
}): Promise<Page<SearchHit>> {
  const query = parseQuery(q);
  const terms = searchTerms(query.text);
  if (terms.length === 0 && !hasFilters(query)) return { items: [], nextCursor: null };
  const offset = decodeCursor(cursor, isOffsetCursor)?.o ?? 0;
  if (offset > MAX_OFFSET) return { items: [], nextCursor: null };

  const tagIds = await tagIdsOf(deps, ownerId, [...query.tags, ...query.notTags]);
  const idsOf = (names: string[]) => names.flatMap((name) => tagIds.get(tagKey(name)) ?? []);
  // A tag the person does not have is on none of their notes.
  if (query.tags.some((name) => !tagIds.has(tagKey(name)))) return { items: [], nextCursor: null };

  const rows = await searchGate(deps.db).run({ key: ownerId, known: true }, () =>
    searchNoteRows(deps.db, {
      ownerId,
      terms,
      inTitle: query.inTitle,
      filter: {
        tagIds: idsOf(query.tags),
        notTagIds: idsOf(query.notTags),
        pinned: query.pinned,
        openTasks: query.openTasks,
        before: query.before,
        after: query.after,
        phrases: query.phrases,
      },
      limit: limit + 1,
      offset,
    }),
  );
  return {
    items: rows.slice(0, limit).map((row) => toHit(row, terms)),
    nextCursor: rows.length > limit ? encodeCursor({ o: offset + limit }) : null,
  };
}

/** A page of search hits, from the read cache when none of the owner's notes changed since (see listNotes). */
export function searchNotes(params: Parameters<typeof findNotes>[0]): ReturnType<typeof findNotes> {
  const { deps, ownerId } = params;
  return deps.cache.remember(
    "notes",
    ownerId,
    ["search", { q: params.q, cursor: params.cursor ?? null, limit: params.limit ?? null }],
    () => findNotes(params),
  );
}
