// MySQL/MariaDB InnoDB FULLTEXT search, on the bucket-prefixed columns of the
// 2026-11-24T00-00-notes-search migration (with the tags of 2026-12-04T00-00-tags-pins).
import { QueryTypes } from "sequelize";
import { termsStartingWords } from "../fold";
import {
  filterSql,
  SEARCH_ROW_COLUMNS,
  type NoteFilter,
  type NoteSearch,
  type SearchContext,
  type SearchRow,
} from "./index";

/** A database date as a time: mysql2 gives Date objects, text when read through a subquery. */
const timeOf = (value: string | Date) =>
  (value instanceof Date ? value : new Date(value.replace(" ", "T") + "Z")).getTime();

/** The owner's bucket, as in the generated columns: RIGHT(owner_id, 5). */
const mysqlBucket = (ownerId: string) => ownerId.slice(-5);
/** innodb_ft_max_token_size (84) less the bucket. */
const MYSQL_MAX_WORD = 79;
/** Up to this many title hits of one word are read through the title index and sorted. */
const TITLE_CAP = 300;
/** Title-less hits are first looked for among this many most recently edited notes... */
const RECENT_NOTES = 1000;
/** ...or through the full-text index when it finds at most this many notes, or else among all. */
const MATCH_CAP = 1000;
/** Fewer title hits than this suggest a rare word: ask the full-text index before the recent notes. */
const FEW_TITLE_HITS = 20;
/** A last word this short is looked for among the RECENT_NOTES first. */
const SHORT_WORD = 2;
/** Block size of the ranking of several words past MATCH_CAP hits or dense in the recent notes. */
const WINDOW = 50;

interface Candidate {
  id: string;
  title: string;
  updated_at: string | Date;
}

interface Ranked extends Candidate {
  tier: number;
  at: number;
}

const byRank = (a: Ranked, b: Ranked) => b.tier - a.tier || b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * filterSql for MariaDB/MySQL: the same conditions, but a tag is tested by a scalar subquery, one
 * primary-key probe of note_tags (note, tag) per note reached. MariaDB turns filterSql's EXISTS
 * into a semi-join driven by note_tags_by_tag: it then reads the row of every note with the tag
 * (3,100 of 10,000 for a common tag), sorts them in a temporary table and only then applies the
 * LIMIT. A scalar subquery is never so rewritten, so a walk of the owner's notes newest first
 * (notes_by_updated) stays in index order and stops at its LIMIT, without reading a row for the tag.
 */
function mysqlFilterSql(filter: NoteFilter, inTitle: boolean, n: string, replacements: Record<string, unknown>) {
  const rest = filterSql({ ...filter, tagIds: [], notTagIds: [] }, inTitle, n, replacements);
  const tags = filter.tagIds.map((id, i) => {
    replacements[`filterTag${i}`] = id;
    return ` AND (SELECT 1 FROM note_tags ft WHERE ft.note_id = ${n}.id AND ft.tag_id = :filterTag${i}) IS NOT NULL`;
  });
  if (filter.notTagIds.length > 0) {
    replacements.filterNotTags = filter.notTagIds;
    tags.push(
      ` AND (SELECT 1 FROM note_tags fx WHERE fx.note_id = ${n}.id AND fx.tag_id IN (:filterNotTags) LIMIT 1) IS NULL`,
    );
  }
  return rest + tags.join("");
}

/** Rows by id, in the order of `ids`. */
async function rowsInOrder(db: SearchContext, ownerId: string, ids: string[]): Promise<SearchRow[]> {
  if (ids.length === 0) return [];
  const rows = await db.sequelize.query<SearchRow>(
    `SELECT ${SEARCH_ROW_COLUMNS} FROM notes WHERE id IN (:ids) AND owner_id = :ownerId`,
    { replacements: { ids, ownerId }, type: QueryTypes.SELECT },
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/**
 * Filters alone (searchNoteRows' `filtered`, on MariaDB/MySQL): the owner's matching notes, most
 * recently edited first. The ids come from a walk of the owner's notes in index order that stops at
 * the page (with is:/-is:pinned, notes_by_pin_updated, where the pin is a prefix), then the page's
 * rows are read by id.
 */
export async function filteredMysql(db: SearchContext, search: NoteSearch): Promise<SearchRow[]> {
  const replacements: Record<string, unknown> = { ownerId: search.ownerId, limit: search.limit, offset: search.offset };
  const conditions = mysqlFilterSql(search.filter, search.inTitle, "n", replacements);
  const index = search.filter.pinned === undefined ? "notes_by_updated" : "notes_by_pin_updated";
  const ids = await db.sequelize.query<{ id: string }>(
    `SELECT n.id FROM notes n FORCE INDEX (${index})
      WHERE n.owner_id = :ownerId AND n.deleted_at IS NULL${conditions}
      ORDER BY n.updated_at DESC, n.id DESC LIMIT :limit OFFSET :offset`,
    { replacements, type: QueryTypes.SELECT },
  );
  return rowsInOrder(
    db,
    search.ownerId,
    ids.map((r) => r.id),
  );
}

/**
 * InnoDB cannot stop a full-text query early, and MariaDB reads the row of every match before it
 * sorts, so a query that matches thousands of notes costs thousands of random row reads. Each
 * statement here is therefore bounded (see oneWord and severalWords). Words are tested on rows
 * already read with `LIKE '% <bucket><term>%'`: a word start in the bucket-prefixed text, on rows
 * reached through an index, never a scan of the table.
 */
export async function searchMysql(db: SearchContext, search: NoteSearch): Promise<SearchRow[]> {
  const { ownerId, terms, offset, limit } = search;
  const bucket = mysqlBucket(ownerId);
  const words = terms.map((t) => [...t].slice(0, MYSQL_MAX_WORD).join(""));
  const base: Record<string, unknown> = { ownerId };
  words.forEach((w, i) => (base[`w${i}`] = `% ${bucket}${w}%`));
  const filters = mysqlFilterSql(search.filter, search.inTitle, "n", base);
  const select = <T extends object = Candidate>(sql: string, replacements: Record<string, unknown> = {}) =>
    db.sequelize.query<T>(sql, { replacements: { ...base, ...replacements }, type: QueryTypes.SELECT });
  const inWord = (i: number) =>
    search.inTitle ? `n.search_title LIKE :w${i}` : `(n.search_title LIKE :w${i} OR n.search_body LIKE :w${i})`;
  const q: MysqlSearch = {
    select,
    terms,
    offset,
    need: offset + limit,
    owned: `n.owner_id = :ownerId AND n.deleted_at IS NULL${filters}`,
    newestFirst: "ORDER BY n.updated_at DESC, n.id DESC",
    inText: words.map((_, i) => inWord(i)).join(" AND "),
    inTitle: words.map((_, i) => `n.search_title LIKE :w${i}`).join(" OR "),
    titleQuery: words.map((w) => `${bucket}${w}*`).join(" "),
    allQuery: words.map((w) => `+${bucket}${w}*`).join(" "),
    allColumns: search.inTitle ? "n.search_title" : "n.search_title, n.search_body",
  };
  const page =
    (await fromSelectiveFilter(q, search.filter)) ?? (words.length > 1 ? await severalWords(q) : await oneWord(q));
  return rowsInOrder(
    db,
    ownerId,
    page.map((r) => r.id),
  );
}

interface MysqlSearch {
  select: <T extends object = Candidate>(sql: string, replacements?: Record<string, unknown>) => Promise<T[]>;
  terms: string[];
  offset: number;
  /** offset + limit: the page is ranked hits [offset, need). */
  need: number;
  owned: string;
  newestFirst: string;
  /** Every term starts a word of the title or the text (SQL condition on `n`). */
  inText: string;
  /** Some term starts a word of the title. */
  inTitle: string;
  /** Boolean-mode queries: any term (for the title index), every term (for both columns). */
  titleQuery: string;
  allQuery: string;
  /** The columns of the full-text index `allQuery` is matched against. */
  allColumns: string;
}

const ranked = (rows: Candidate[], tier: (row: Candidate) => number): Ranked[] =>
  rows.map((r) => ({ ...r, tier: tier(r), at: timeOf(r.updated_at) }));
const titleWords = (q: MysqlSearch) => (row: Candidate) => termsStartingWords(row.title, q.terms);

/** Every hit, through the full-text index of both columns; null when there are more than MATCH_CAP. */
async function allMatches(q: MysqlSearch): Promise<Candidate[] | null> {
  const rows = await q.select(
    `SELECT n.id, n.title, n.updated_at FROM notes n
      WHERE MATCH(${q.allColumns}) AGAINST(:query IN BOOLEAN MODE) AND ${q.owned}
      LIMIT ${MATCH_CAP + 1}`,
    { query: q.allQuery },
  );
  return rows.length <= MATCH_CAP ? rows : null;
}

/**
 * For a query matching very many notes: the hits newest first, ranked within consecutive blocks
 * of WINDOW. Such hits are dense among the owner's notes, so the walk stops early.
 */
async function inRecentBlocks(q: MysqlSearch, firstBlock?: Candidate[]): Promise<Candidate[]> {
  const skip = Math.floor(q.offset / WINDOW) * WINDOW;
  const take = Math.ceil(q.need / WINDOW) * WINDOW - skip;
  const rows = ranked(
    firstBlock && skip === 0 && take === WINDOW
      ? firstBlock
      : await q.select(
          `SELECT n.id, n.title, n.updated_at FROM notes n WHERE ${q.owned} AND ${q.inText} ${q.newestFirst} LIMIT :take OFFSET :skip`,
          {
            take,
            skip,
          },
        ),
    titleWords(q),
  );
  const blocks: Ranked[] = [];
  for (let i = 0; i < rows.length; i += WINDOW) blocks.push(...rows.slice(i, i + WINDOW).sort(byRank));
  return blocks.slice(q.offset - skip, q.need - skip);
}

/**
 * Several words: their intersection is usually small, and then it is the whole ranked answer.
 * Past MATCH_CAP hits, or when the word being typed is one or two letters and the recent notes
 * hold a block of hits, the ranking applies within blocks of WINDOW recent hits.
 */
async function severalWords(q: MysqlSearch): Promise<Candidate[]> {
  const dense = await denseInRecentNotes(q);
  if (dense) return dense;
  const matches = await allMatches(q);
  return matches ? ranked(matches, titleWords(q)).sort(byRank).slice(q.offset, q.need) : inRecentBlocks(q);
}

/**
 * Words with a selective filter (is:pinned, or a tag on fewer than RECENT_NOTES notes): the notes
 * meeting the filter, found through notes_by_pin_updated or note_tags_by_tag, are few, so all the
 * hits among them are read and ranked here, without the full-text index, whose matches of a
 * common word (thousands of rows to read before the filter applies) would cost far more. The
 * ranking is the one severalWords and oneWord give when the hits are at most MATCH_CAP, including
 * denseInRecentNotes' blocks (the owner then has under RECENT_NOTES such notes, so no floor).
 * Null when the filter is not selective.
 */
async function fromSelectiveFilter(q: MysqlSearch, filter: NoteFilter): Promise<Candidate[] | null> {
  const sources: [string, string][] = [];
  if (filter.pinned === true) {
    sources.push([
      "FROM notes n FORCE INDEX (notes_by_pin_updated) WHERE",
      "SELECT 1 FROM notes p WHERE p.owner_id = :ownerId AND p.deleted_at IS NULL AND p.pinned = 1",
    ]);
  }
  filter.tagIds.forEach((_, i) =>
    sources.push([
      `FROM note_tags d STRAIGHT_JOIN notes n ON n.id = d.note_id WHERE d.tag_id = :filterTag${i} AND`,
      `SELECT 1 FROM note_tags c WHERE c.tag_id = :filterTag${i}`,
    ]),
  );
  if (sources.length === 0) return null;
  let best: [string, number] | null = null;
  for (const [from, members] of sources) {
    const [row] = await q.select<{ count: number | string }>(
      `SELECT COUNT(*) AS count FROM (${members} LIMIT ${RECENT_NOTES}) c`,
    );
    const count = Number(row?.count ?? 0);
    if (count < RECENT_NOTES && (best === null || count < best[1])) best = [from, count];
  }
  if (best === null) return null;
  const hits = ranked(
    await q.select(`SELECT n.id, n.title, n.updated_at ${best[0]} ${q.owned} AND ${q.inText} ${q.newestFirst}`),
    titleWords(q),
  );
  if (q.terms.length > 1 && [...q.terms[q.terms.length - 1]!].length <= SHORT_WORD && hits.length >= WINDOW) {
    const blocks: Ranked[] = [];
    for (let i = 0; i < hits.length; i += WINDOW) blocks.push(...hits.slice(i, i + WINDOW).sort(byRank));
    return blocks.slice(q.offset, q.need);
  }
  return hits.sort(byRank).slice(q.offset, q.need);
}

/** The last edit time of the owner's RECENT_NOTES-th most recent note; null when they have fewer. */
async function recentEdge(q: MysqlSearch) {
  const [edge] = await q.select(
    `SELECT n.updated_at FROM notes n WHERE ${q.owned} ${q.newestFirst} LIMIT 1 OFFSET ${RECENT_NOTES - 1}`,
  );
  return edge?.updated_at ?? null;
}

/**
 * The word being typed (the last) has one or two letters so far, and starts a word of most notes:
 * when the owner's RECENT_NOTES hold a block of WINDOW hits, the answer is ranked in recent
 * blocks, read from recent rows, without fetching the hundreds of older rows the full-text index
 * would return.
 */
async function denseInRecentNotes(q: MysqlSearch): Promise<Candidate[] | null> {
  if ([...q.terms[q.terms.length - 1]!].length > SHORT_WORD) return null;
  const floor = await recentEdge(q);
  const recent = await q.select(
    `SELECT n.id, n.title, n.updated_at FROM notes n
      WHERE ${q.owned} AND ${q.inText} ${floor === null ? "" : "AND n.updated_at >= :floor"} ${q.newestFirst} LIMIT ${WINDOW}`,
    { floor },
  );
  return recent.length === WINDOW ? inRecentBlocks(q, recent) : null;
}

/**
 * One word, ranked exactly: the notes with it in the title first, then the others, each newest
 * edit first.
 *
 * Title hits: for a word of one or two letters, from the owner's RECENT_NOTES when they fill the
 * page (such a word starts a word of most titles); else through the title index when it finds at
 * most TITLE_CAP notes (a title is short, so a word is in few); else, being common, newest first
 * straight from the owner's notes, which stops early.
 *
 * The other hits: from the RECENT_NOTES (a short walk when such hits are common), or through the
 * full-text index when it finds at most MATCH_CAP notes, or else from all the owner's notes newest
 * first (the hits are then common enough to stop early).
 */
async function oneWord(q: MysqlSearch): Promise<Candidate[]> {
  const take = q.need - q.offset;
  const titleHitsNewestFirst = (floor: string | Date | null) =>
    q.select(
      `SELECT n.id, n.title, n.updated_at FROM notes n
        WHERE ${q.owned} AND (${q.inTitle}) ${floor === null ? "" : "AND n.updated_at >= :floor"}
        ${q.newestFirst} LIMIT :take OFFSET :skip`,
      { take, skip: q.offset, floor },
    );
  if ([...q.terms[0]!].length <= SHORT_WORD) {
    const floor = await recentEdge(q);
    if (floor !== null) {
      const recent = await titleHitsNewestFirst(floor);
      if (recent.length === take) return recent;
    }
  }

  const titled = await q.select(
    `SELECT n.id, n.title, n.updated_at FROM notes n
      WHERE MATCH(n.search_title) AGAINST(:query IN BOOLEAN MODE) AND ${q.owned} LIMIT ${TITLE_CAP + 1}`,
    { query: q.titleQuery },
  );
  let page: Candidate[];
  let titleCount: number;
  let isTitleHit: (row: Candidate) => boolean;
  if (titled.length <= TITLE_CAP) {
    const titleHits = ranked(titled, () => 1).sort(byRank);
    page = titleHits.slice(q.offset, q.need);
    titleCount = titleHits.length;
    const ids = new Set(titleHits.map((r) => r.id));
    isTitleHit = (row) => ids.has(row.id);
  } else {
    page = await titleHitsNewestFirst(null);
    if (page.length === take) return page;
    titleCount = page.length > 0 ? q.offset + page.length : await countTitleHits(q);
    isTitleHit = (row) => titleWords(q)(row) > 0;
  }
  if (page.length === take) return page;

  const skip = Math.max(0, q.offset - titleCount);
  const rest = take - page.length;
  const others = (rows: Candidate[]) => rows.filter((r) => !isTitleHit(r));
  const walk = (floor: string | Date | null) =>
    q.select(
      `SELECT n.id, n.title, n.updated_at FROM notes n
        WHERE ${q.owned} AND NOT (${q.inTitle}) AND ${q.inText} ${floor === null ? "" : "AND n.updated_at >= :floor"}
        ${q.newestFirst} LIMIT :take OFFSET :skip`,
      { take: rest, skip, floor },
    );
  const fromRecent = async () => {
    const floor = await recentEdge(q);
    const rows = await walk(floor);
    return rows.length === rest || floor === null ? rows : null;
  };
  const fromIndex = async () => {
    const matches = await allMatches(q);
    return (
      matches &&
      ranked(others(matches), () => 0)
        .sort(byRank)
        .slice(skip, skip + rest)
    );
  };
  // Few title hits predict few hits at all (a title is a short text): then the index first.
  const tail =
    titleCount < FEW_TITLE_HITS
      ? ((await fromIndex()) ?? (await fromRecent()) ?? (await walk(null)))
      : ((await fromRecent()) ?? (await fromIndex()) ?? (await walk(null)));
  return [...page, ...others(tail)];
}

/** How many of the owner's notes have the word in the title (only for pages past them all). */
async function countTitleHits(q: MysqlSearch): Promise<number> {
  const [row] = await q.select<{ count: number | string }>(
    `SELECT COUNT(*) AS count FROM notes n WHERE ${q.owned} AND (${q.inTitle})`,
  );
  return Number(row?.count ?? 0);
}
