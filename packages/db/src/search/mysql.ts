// MySQL/MariaDB InnoDB FULLTEXT search, on the bucket-prefixed columns of the
// 2026-11-24T00-00-notes-search migration, as 2026-12-07T00-00-search-one-index left them: one
// FULLTEXT index on (search_title, search_body), where `search_body` holds the title, the text and
// the tags with the bare bucket and `search_title` the title with `_` before the bucket.
import { termsStartingWords } from "../fold";
import { rowDate, selectNamed, type NamedValues } from "../rows";
import {
  byRank,
  filterSql,
  ranked,
  rowsInOrder,
  type Candidate,
  type Ranked,
  type NoteFilter,
  type NoteSearch,
  type SearchContext,
  type SearchRow,
} from "./index";

/** The owner's bucket, as in the generated columns: RIGHT(owner_id, 5). */
const mysqlBucket = (ownerId: string) => ownerId.slice(-5);
/** Before the bucket in `search_title`'s words, which are then the title's alone. */
const TITLE_MARKER = "_";
/** innodb_ft_max_token_size (84) less the marker and the bucket. */
const MYSQL_MAX_WORD = 78;
/** The columns of the full-text index, as every MATCH must name them. */
const INDEXED = "n.search_title, n.search_body";
/** Up to this many title hits of one word are read through the index's title words and sorted. */
const TITLE_CAP = 300;
/** Title-less hits are first looked for among this many most recently edited notes... */
const RECENT_NOTES = 1000;
/** ...or through the full-text index when it finds at most this many notes, or else among all. */
const MATCH_CAP = 1000;
/** Fewer title hits than this suggest a rare word: ask the full-text index before the recent notes. */
const FEW_TITLE_HITS = 20;
/** A last word this short is looked for among the RECENT_NOTES first. */
const SHORT_WORD = 2;
/** A filter met by fewer notes than this (a tag's, the pinned, those with open tasks) is read whole. */
const FILTER_CAP = 2000;
/** A word this short is likely common: with has:task, the owner's notes with open tasks are walked. */
const COMMON_WORD = 4;
/** The text of the notes meeting a selective filter is searched in batches of this many, then doubling. */
const TEXT_BATCH = 100;
/** Block size of the ranking of several words past MATCH_CAP hits or dense in the recent notes. */
const WINDOW = 50;

/**
 * filterSql for MariaDB/MySQL: the same conditions, but a tag is tested by a scalar subquery, one
 * primary-key probe of note_tags (note, tag) per note reached. MariaDB turns filterSql's EXISTS
 * into a semi-join driven by note_tags_by_tag: it then reads the row of every note with the tag
 * (3,100 of 10,000 for a common tag), sorts them in a temporary table and only then applies the
 * LIMIT. A scalar subquery is never so rewritten, so a walk of the owner's notes newest first
 * (notes_by_updated) stays in index order and stops at its LIMIT, without reading a row for the tag.
 */
function mysqlFilterSql(filter: NoteFilter, inTitle: boolean, n: string, replacements: NamedValues) {
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

/**
 * Filters alone (searchNoteRows' `filtered`, on MariaDB/MySQL): the owner's matching notes, most
 * recently edited first. The ids come from a walk of the owner's notes in index order that stops at
 * the page (with is:/-is:pinned, notes_by_pin_updated, where the pin is a prefix), then the page's
 * rows are read by id.
 */
export async function filteredMysql(db: SearchContext, search: NoteSearch): Promise<SearchRow[]> {
  const replacements: NamedValues = {
    ownerId: search.ownerId,
    limit: search.limit,
    offset: search.offset,
  };
  const conditions = mysqlFilterSql(search.filter, search.inTitle, "n", replacements);
  const index = search.filter.pinned === undefined ? "notes_by_updated" : "notes_by_pin_updated";
  const ids = await selectNamed<{ id: string }>(
    db,
    `SELECT n.id FROM notes n FORCE INDEX (${index})
      WHERE n.owner_id = :ownerId AND n.deleted_at IS NULL${conditions}
      ORDER BY n.updated_at DESC, n.id DESC LIMIT :limit OFFSET :offset`,
    replacements,
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
  const base: NamedValues = { ownerId };
  words.forEach((w, i) => {
    base[`w${i}`] = `% ${bucket}${w}%`;
    // `_` is a LIKE wildcard: escaped.
    base[`t${i}`] = `% \\${TITLE_MARKER}${bucket}${w}%`;
  });
  const filters = mysqlFilterSql(search.filter, search.inTitle, "n", base);
  const select = <T extends object = Candidate>(sql: string, replacements: NamedValues = {}) =>
    selectNamed<T>(db, sql, { ...base, ...replacements });
  const inWord = (i: number) => (search.inTitle ? `n.search_title LIKE :t${i}` : `n.search_body LIKE :w${i}`);
  const q: MysqlSearch = {
    select,
    terms,
    offset,
    need: offset + limit,
    owned: `n.owner_id = :ownerId AND n.deleted_at IS NULL${filters}`,
    newestFirst: "ORDER BY n.updated_at DESC, n.id DESC",
    inText: words.map((_, i) => inWord(i)).join(" AND "),
    inTitle: words.map((_, i) => `n.search_title LIKE :t${i}`).join(" OR "),
    titleQuery: words.map((w) => `${TITLE_MARKER}${bucket}${w}*`).join(" "),
    allQuery: words.map((w) => `+${search.inTitle ? TITLE_MARKER : ""}${bucket}${w}*`).join(" "),
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
  select: <T extends object = Candidate>(sql: string, replacements?: NamedValues) => Promise<T[]>;
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
  /** Boolean-mode queries: any term in the title; every term (in the title alone with in:title). */
  titleQuery: string;
  allQuery: string;
}

const titleWords = (q: MysqlSearch) => (row: Candidate) => termsStartingWords(row.title, q.terms);

/** Every hit, through the full-text index; null when there are more than MATCH_CAP. */
async function allMatches(q: MysqlSearch): Promise<Candidate[] | null> {
  const rows = await q.select(
    `SELECT n.id, n.title, n.updated_at FROM notes n
      WHERE MATCH(${INDEXED}) AGAINST(:query IN BOOLEAN MODE) AND ${q.owned}
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
 * Words with a selective filter: is:pinned, or a tag, on fewer than RECENT_NOTES notes (FILTER_CAP
 * for one word of at most SHORT_WORD letters, which the full-text index finds in most notes), or
 * has:task with one word of at most COMMON_WORD letters (likely common; a longer, rarer word is
 * cheaper through the full-text index). The notes meeting the filter, found through
 * notes_by_pin_updated, notes_by_open_tasks or note_tags_by_tag, are few, so the hits among them
 * are read and ranked here, without the full-text index, whose matches of a common word (thousands
 * of rows to read before the filter applies) would cost far more. The ranking is the one
 * severalWords and oneWord give: one word, title hits then the others, newest first; several, the
 * same unless the last word is short and its hits fill a WINDOW among the RECENT_NOTES most recent
 * of these notes (denseInRecentNotes), or the hits pass MATCH_CAP, and then in blocks of WINDOW.
 * Null when the filter is not selective.
 */
async function fromSelectiveFilter(q: MysqlSearch, filter: NoteFilter): Promise<Candidate[] | null> {
  const oneShortWord = q.terms.length === 1 && [...q.terms[0]!].length <= SHORT_WORD;
  // [FROM clause, the filter's members, the most of them worth reading, how one word is then searched]
  const sources: [string, string, number, ((q: MysqlSearch, from: string) => Promise<Candidate[]>) | null][] = [];
  if (filter.pinned === true) {
    sources.push([
      "FROM notes n FORCE INDEX (notes_by_pin_updated) WHERE",
      "SELECT 1 FROM notes p WHERE p.owner_id = :ownerId AND p.deleted_at IS NULL AND p.pinned = 1",
      RECENT_NOTES,
      null,
    ]);
  }
  if (filter.openTasks === true && q.terms.length === 1 && [...q.terms[0]!].length <= COMMON_WORD) {
    sources.push([
      "FROM notes n FORCE INDEX (notes_by_open_tasks) WHERE",
      "SELECT 1 FROM notes t FORCE INDEX (notes_by_open_tasks) WHERE t.owner_id = :ownerId AND t.deleted_at IS NULL AND t.open_tasks = 1",
      FILTER_CAP,
      oneWordWalking,
    ]);
  }
  filter.tagIds.forEach((_, i) =>
    sources.push([
      `FROM note_tags d STRAIGHT_JOIN notes n ON n.id = d.note_id WHERE d.tag_id = :filterTag${i} AND`,
      `SELECT 1 FROM note_tags c WHERE c.tag_id = :filterTag${i}`,
      oneShortWord ? FILTER_CAP : RECENT_NOTES,
      oneShortWord ? oneWordAmong : null,
    ]),
  );
  if (sources.length === 0) return null;
  let best: {
    from: string;
    count: number;
    oneWord: ((q: MysqlSearch, from: string) => Promise<Candidate[]>) | null;
  } | null = null;
  for (const [from, members, cap, oneWord] of sources) {
    const [row] = await q.select<{ count: number | string }>(
      `SELECT COUNT(*) AS count FROM (${members} LIMIT ${cap}) c`,
    );
    const count = Number(row?.count ?? 0);
    if (count < cap && (best === null || count < best.count)) best = { from, count, oneWord };
  }
  if (best === null) return null;
  if (best.oneWord) return best.oneWord(q, best.from);
  // Every note meeting the filter, newest first; the title only of hits (a title is never null).
  const notes = await q.select<{ id: string; title: string | null; updated_at: string | Date }>(
    `SELECT n.id, IF(${q.inText}, n.title, NULL) AS title, n.updated_at ${best.from} ${q.owned} ${q.newestFirst}`,
  );
  const hits = ranked(
    notes.flatMap((r) => (r.title === null ? [] : [{ id: r.id, title: r.title, updated_at: r.updated_at }])),
    titleWords(q),
  );
  const edge = notes.length >= RECENT_NOTES ? rowDate(notes[RECENT_NOTES - 1]!.updated_at).getTime() : -Infinity;
  const dense =
    [...q.terms[q.terms.length - 1]!].length <= SHORT_WORD && hits.filter((h) => h.at >= edge).length >= WINDOW;
  if (dense || hits.length > MATCH_CAP) {
    const blocks: Ranked[] = [];
    for (let i = 0; i < hits.length; i += WINDOW) blocks.push(...hits.slice(i, i + WINDOW).sort(byRank));
    return blocks.slice(q.offset, q.need);
  }
  return hits.sort(byRank).slice(q.offset, q.need);
}

/**
 * One word among the few notes meeting a filter, through an index (`from`) that lists them newest
 * first, ranked as oneWord ranks (its walk): the title hits, then the other hits, each walk
 * stopping at the page.
 */
async function oneWordWalking(q: MysqlSearch, from: string): Promise<Candidate[]> {
  const take = q.need - q.offset;
  const page = await q.select(
    `SELECT n.id, n.title, n.updated_at ${from} ${q.owned} AND (${q.inTitle}) ${q.newestFirst} LIMIT :take OFFSET :skip`,
    { take, skip: q.offset },
  );
  if (page.length === take) return page;
  const titleCount = page.length > 0 || q.offset === 0 ? q.offset + page.length : await countTitleHits(q);
  const others = await q.select(
    `SELECT n.id, n.title, n.updated_at ${from} ${q.owned} AND NOT (${q.inTitle}) AND ${q.inText}
      ${q.newestFirst} LIMIT :take OFFSET :skip`,
    { take: take - page.length, skip: Math.max(0, q.offset - titleCount) },
  );
  return [...page, ...others];
}

/**
 * One word among the few notes meeting a filter (`from`), ranked as oneWord ranks: the notes with
 * it in the title, newest first, then the others with it, newest first. The notes are listed with
 * whether their (short) title has it; the text, costlier to search, is then searched only in as
 * many of the others, newest first, as the page needs, a batch at a time.
 */
async function oneWordAmong(q: MysqlSearch, from: string): Promise<Candidate[]> {
  const notes = await q.select<{ id: string; title: string | null; updated_at: string | Date }>(
    `SELECT n.id, IF(${q.inTitle}, n.title, NULL) AS title, n.updated_at ${from} ${q.owned} ${q.newestFirst}`,
  );
  const titled = notes.filter((r): r is Candidate => r.title !== null);
  const page = titled.slice(q.offset, q.need);
  const skip = Math.max(0, q.offset - titled.length);
  const want = skip + q.need - q.offset - page.length;
  if (want === skip) return page;
  const untitled = notes.filter((r) => r.title === null).map((r) => r.id);
  const others: Candidate[] = [];
  for (let at = 0, size = TEXT_BATCH; at < untitled.length && others.length < want; at += size, size *= 2) {
    const ids = untitled.slice(at, at + size);
    const found = await q.select(
      `SELECT n.id, n.title, n.updated_at FROM notes n WHERE n.id IN (:ids) AND ${q.inText}`,
      {
        ids,
      },
    );
    const byId = new Map(found.map((r) => [r.id, r]));
    others.push(...ids.flatMap((id) => byId.get(id) ?? []));
  }
  return [...page, ...others.slice(skip, want)];
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
 * page (such a word starts a word of most titles); else through the index's title words when they
 * find at most TITLE_CAP notes (a title is short, so a word is in few); else, being common, newest
 * first straight from the owner's notes, which stops early.
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
      WHERE MATCH(${INDEXED}) AGAINST(:query IN BOOLEAN MODE) AND ${q.owned} LIMIT ${TITLE_CAP + 1}`,
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
