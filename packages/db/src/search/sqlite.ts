// SQLite FTS5 search, on the index of the 2026-11-24T00-00-notes-search migration (with the tags
// column of 2026-12-04T00-00-tags-pins).
import { termsStartingWords } from "../fold";
import { selectNamed, type NamedValues } from "../rows";
import {
  byRank,
  filterSql,
  ranked,
  rowsInOrder,
  SEARCH_ROW_COLUMNS,
  type Candidate,
  type NoteSearch,
  type SearchContext,
  type SearchRow,
} from "./index";

/**
 * The owner's bucket as the migration computes it: 5 bits from each of the owner id's last five
 * characters. A note's FTS rowid is (bucket << 36) | its rowid in `notes`.
 */
function sqliteBucket(ownerId: string): number {
  let bucket = 0;
  for (let i = 1; i <= 5; i++) bucket |= ((ownerId.codePointAt(ownerId.length - i) ?? 0) & 31) << ((i - 1) * 5);
  return bucket;
}
const NOTE_ROWID_MASK = "68719476735"; // 2^36 - 1

/** What every query of a search shares: its parameters, and the owner's notes whose FTS rowid `match` finds. */
function searchParts(search: NoteSearch) {
  const replacements: NamedValues = {
    bucket: sqliteBucket(search.ownerId),
    ownerId: search.ownerId,
  };
  /** The FTS rowids of the owner's notes that `match` finds (`rowid` and `match` as FTS5 reads them). */
  const hits = (match: string) =>
    `SELECT rowid FROM notes_fts WHERE notes_fts MATCH ${match}
       AND rowid BETWEEN (:bucket << 36) AND (:bucket << 36) + ${NOTE_ROWID_MASK}`;
  const matching = (match: string) => `((:bucket << 36) | o.rowid) IN (${hits(match)})`;
  const filters = filterSql(search.filter, search.inTitle, "o", replacements);
  const owned = (match: string) =>
    `FROM notes o INDEXED BY notes_by_updated
      WHERE o.owner_id = :ownerId AND o.deleted_at IS NULL AND ${matching(match)}${filters}`;
  return { replacements, hits, matching, filters, owned };
}

/** Every term as a quoted prefix (nothing typed is FTS5 syntax), in the title alone or anywhere. */
const anywhere = (term: string) => `"${term}"*`;
const inTitle = (term: string) => `title : "${term}"*`;

/**
 * The owner's notes FTS5 finds, within the owner's rowid range so FTS5 reads only that part of
 * each doclist. The owner's notes are walked in the covering `notes_by_updated` index (no table
 * row read unless a filter needs one) and kept when in the match set; only the page's rows are read.
 *
 * One word (the as-you-type case): title hits, then the rest, each tier one FTS5 query read newest
 * first until the page is full. A common prefix ("t", "in") matches most of a person's notes:
 * ranking every hit at once cost 2.7 times as much over bench/search's one-word queries (3.2 ms
 * against 1.2 ms), and a word longer than the prefix indexes (8 letters, migration
 * 2026-12-06T00-00-search-prefixes), which FTS5 looks up in the whole table, is looked up once
 * per tier instead of once per tier and once for the match. `in:title`: one tier. Several words
 * anywhere: see searchRanked (their tiers as FTS5 queries of their own, every mix of title and
 * text hits, cost several times more).
 */
export function searchSqlite(db: SearchContext, search: NoteSearch): Promise<SearchRow[]> {
  const { terms } = search;
  // Words looked for in titles alone: every hit is of one tier.
  if (search.inTitle) return searchByTier(db, search, [terms.map(inTitle).join(" AND ")]);
  const [term] = terms;
  if (terms.length === 1) return searchByTier(db, search, [inTitle(term!), `${anywhere(term!)} NOT ${inTitle(term!)}`]);
  return searchRanked(db, search);
}

/** The hits of each tier (an FTS5 query), the first tier's first, each newest first. */
async function searchByTier(db: SearchContext, search: NoteSearch, tiers: string[]): Promise<SearchRow[]> {
  const { replacements, owned } = searchParts(search);
  const rows: SearchRow[] = [];
  // The page starts `skip` hits into this tier: past the tiers above it, counted when skipped whole.
  let skip = search.offset;
  for (const [index, match] of tiers.entries()) {
    const wanted = search.limit - rows.length;
    if (wanted <= 0) break;
    const found = await selectNamed<SearchRow>(
      db,
      `WITH page AS (
         SELECT o.rowid AS note, o.updated_at AS edited, o.id AS id ${owned(":match")}
          ORDER BY edited DESC, id DESC LIMIT :limit OFFSET :offset)
       SELECT ${SEARCH_ROW_COLUMNS.replace(/(\w+)/g, "n.$1")}
         FROM page CROSS JOIN notes n ON n.rowid = page.note
        ORDER BY page.edited DESC, page.id DESC`,
      { ...replacements, match, limit: wanted, offset: skip },
    );
    rows.push(...found);
    if (skip > 0 && index < tiers.length - 1) {
      if (found.length > 0) skip = 0;
      else {
        const [counted] = await selectNamed<{ hits: number }>(db, `SELECT count(*) AS hits ${owned(":match")}`, {
          ...replacements,
          match,
        });
        skip -= Number(counted!.hits);
      }
    }
  }
  return rows;
}

/**
 * Several words that find at most this many notes are ranked in code from their titles (the words
 * starting a word of the title, as on MariaDB/MySQL), each hit's row read through FTS5's match
 * list. More are ranked by the database, which then needs each word's title hits from FTS5 too:
 * for a word longer than the prefix indexes that is one more lookup in the whole table (over
 * bench/search's queries of several words, 6.7 ms against 3.8 ms with the few ranked in code).
 */
const FEW_HITS = 100;

/** Notes with more of the words in the title first, then the most recently edited. */
async function searchRanked(db: SearchContext, search: NoteSearch): Promise<SearchRow[]> {
  // One set of parts for both queries: the match of every word, the filters, the owner.
  const parts = searchParts(search);
  parts.replacements.all = search.terms.map(anywhere).join(" AND ");
  const few = await fewHits(db, parts);
  if (!few) return rankedInSql(db, search, parts);
  const page = ranked(few, (row) => termsStartingWords(row.title, search.terms))
    .sort(byRank)
    .slice(search.offset, search.offset + search.limit);
  return rowsInOrder(
    db,
    search.ownerId,
    page.map((row) => row.id),
  );
}

/** Every hit, read from FTS5's match list, when there are at most FEW_HITS; else null. */
async function fewHits(
  db: SearchContext,
  { replacements, hits, filters }: ReturnType<typeof searchParts>,
): Promise<Candidate[] | null> {
  const rows = await selectNamed<Candidate>(
    db,
    `SELECT o.id, o.title, o.updated_at
       FROM (SELECT rowid & ${NOTE_ROWID_MASK} AS note FROM (${hits(":all")})) found
       CROSS JOIN notes o ON o.rowid = found.note
      WHERE o.owner_id = :ownerId AND o.deleted_at IS NULL${filters}
      LIMIT ${FEW_HITS + 1}`,
    replacements,
  );
  return rows.length > FEW_HITS ? null : rows;
}

/** All the hits ranked at once by the database, the tier counting the words found in the title. */
function rankedInSql(
  db: SearchContext,
  search: NoteSearch,
  { replacements, matching, owned }: ReturnType<typeof searchParts>,
): Promise<SearchRow[]> {
  const { terms } = search;
  replacements.limit = search.limit;
  replacements.offset = search.offset;
  const tier = terms
    .map((t, i) => {
      replacements[`title${i}`] = inTitle(t);
      return `(${matching(`:title${i}`)})`;
    })
    .join(" + ");
  return selectNamed<SearchRow>(
    db,
    `WITH page AS (
       SELECT o.rowid AS note, o.updated_at AS edited, o.id AS id, ${tier} AS tier ${owned(":all")}
        ORDER BY tier DESC, edited DESC, id DESC
        LIMIT :limit OFFSET :offset)
     SELECT ${SEARCH_ROW_COLUMNS.replace(/(\w+)/g, "n.$1")}
       FROM page CROSS JOIN notes n ON n.rowid = page.note
      ORDER BY page.tier DESC, page.edited DESC, page.id DESC`,
    replacements,
  );
}
