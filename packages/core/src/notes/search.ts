// Ranked word-prefix search over the owner's notes with the database's own full-text engine:
// SQLite FTS5 or InnoDB FULLTEXT. Title hits rank first; trash is excluded.
import { ownerKeyOf, QueryTypes } from "@notebox/db";
import type { CoreDeps } from "../deps";
import { decodeCursor, encodeCursor, likePattern, type Page } from "../pagination";
import { highlight, searchTerms, snippet, type Segment } from "./highlight";

export interface SearchHit {
  id: string;
  title: string;
  titleHighlights: Segment[];
  snippet: Segment[];
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** InnoDB does not index words shorter than this (innodb_ft_min_token_size). */
const MYSQL_MIN_TOKEN = 3;
/** InnoDB does not index words longer than this (innodb_ft_max_token_size). */
const MYSQL_MAX_TOKEN = 84;
const MAX_OFFSET = 1000;

type OffsetCursor = { o: number };
const isOffsetCursor = (x: unknown): x is OffsetCursor =>
  typeof x === "object" && x !== null && Number.isInteger((x as OffsetCursor).o) && (x as OffsetCursor).o >= 0;

interface Row {
  id: string;
  title: string;
  description: string;
  version: number;
  created_at: string | Date;
  updated_at: string | Date;
}

const iso = (value: string | Date) => new Date(value instanceof Date ? value : value.replace(" ", "T").replace(" +00:00", "Z")).toISOString();

export async function searchNotes({
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
  const terms = searchTerms(q);
  if (terms.length === 0) return { items: [], nextCursor: null };
  const offset = decodeCursor(cursor, isOffsetCursor)?.o ?? 0;
  if (offset > MAX_OFFSET) return { items: [], nextCursor: null };

  const rows =
    deps.db.dialect === "sqlite"
      ? await searchSqlite(deps, ownerId, terms, limit + 1, offset)
      : await searchMysql(deps, ownerId, terms, limit + 1, offset);

  const items = rows.slice(0, limit).map((row) => ({
    id: row.id,
    title: row.title,
    titleHighlights: highlight(row.title, terms),
    snippet: snippet(row.description, terms),
    version: Number(row.version),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  }));
  return { items, nextCursor: rows.length > limit ? encodeCursor({ o: offset + limit }) : null };
}

/**
 * FTS5: the owner token and every term as a quoted prefix, so nothing typed is query syntax.
 * bm25 weights: owner 0, title 100, text 1 — a title hit outranks any number of text hits.
 */
async function searchSqlite(deps: CoreDeps, ownerId: string, terms: string[], limit: number, offset: number) {
  const match = `owner_key:"${ownerKeyOf(ownerId)}" AND {title description}:(${terms.map((t) => `"${t}"*`).join(" AND ")})`;
  return deps.db.sequelize.query<Row>(
    `SELECT n.id, n.title, n.description, n.version, n.created_at, n.updated_at
       FROM notes_fts
      -- CROSS JOIN fixes the join order: the full-text match first, then its rows. With a plain
      -- JOIN the planner may walk the owner's notes and re-run the MATCH for each one.
      CROSS JOIN notes n ON n.rowid = notes_fts.rowid
      WHERE notes_fts MATCH :match AND n.owner_id = :ownerId AND n.deleted_at IS NULL
      ORDER BY bm25(notes_fts, 0.0, 100.0, 1.0), n.updated_at DESC
      LIMIT :limit OFFSET :offset`,
    { replacements: { match, ownerId, limit, offset }, type: QueryTypes.SELECT },
  );
}

/**
 * InnoDB boolean mode: `+owner +term*` for every term long enough to be indexed. Shorter terms
 * are matched with LIKE among the rows the index found (or among the owner's notes when every
 * term is short, which the owner-led index keeps to that one person's notes).
 */
async function searchMysql(deps: CoreDeps, ownerId: string, terms: string[], limit: number, offset: number) {
  const indexed = terms.filter((t) => [...t].length >= MYSQL_MIN_TOKEN).map((t) => [...t].slice(0, MYSQL_MAX_TOKEN).join(""));
  const short = terms.filter((t) => [...t].length < MYSQL_MIN_TOKEN);
  const all = `+${ownerKeyOf(ownerId)} ${indexed.map((t) => `+${t}*`).join(" ")}`;
  const titleQuery = terms.map((t) => `${t}*`).join(" ");
  const replacements: Record<string, unknown> = { all, titleQuery, ownerId, limit, offset };
  const shortFilters = short.map((t, i) => {
    replacements[`short${i}`] = likePattern(t);
    return `AND (n.title LIKE :short${i} ESCAPE '!' OR n.description LIKE :short${i} ESCAPE '!')`;
  });
  const matchAll = "MATCH(n.owner_key, n.title, n.description) AGAINST(:all IN BOOLEAN MODE)";
  return deps.db.sequelize.query<Row>(
    `SELECT n.id, n.title, n.description, n.version, n.created_at, n.updated_at,
            MATCH(n.title) AGAINST(:titleQuery IN BOOLEAN MODE) * 100 + ${matchAll} AS score
       FROM notes n
      WHERE ${matchAll} AND n.owner_id = :ownerId AND n.deleted_at IS NULL
            ${shortFilters.join(" ")}
      ORDER BY score DESC, n.updated_at DESC
      LIMIT :limit OFFSET :offset`,
    { replacements, type: QueryTypes.SELECT },
  );
}
