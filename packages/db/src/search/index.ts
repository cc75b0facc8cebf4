// The search queries of notes, one module per database, beside the migrations that build their
// indexes (2026-11-24T00-00-notes-search, 2026-12-04T00-00-tags-pins). Core parses what a person
// typed, resolves tag names and shapes the answer; this finds the page of rows.
import type { Sequelize } from "sequelize";
import type { Dialect } from "../connection";
import { rowDate, selectRows, selectNamed, type NamedValues } from "../rows";
import { filteredMysql, searchMysql } from "./mysql";
import { searchSqlite } from "./sqlite";

/** Conditions besides the words, all of which a hit meets. */
export interface NoteFilter {
  /** Tag ids the note must carry (every one). */
  tagIds: string[];
  /** Tag ids the note must not carry. */
  notTagIds: string[];
  pinned?: boolean;
  /** Has an unticked task. */
  openTasks?: boolean;
  /** Last edited before / at or after these instants. */
  before?: Date;
  after?: Date;
  /** Texts that must appear as typed (case-insensitively) in the title, or the title or text. */
  phrases: string[];
}

export interface NoteSearch {
  ownerId: string;
  /** Folded words, each matched as the start of a word; empty for filters alone. */
  terms: string[];
  /** Words (and phrases) are looked for in titles only. */
  inTitle: boolean;
  filter: NoteFilter;
  limit: number;
  offset: number;
}

export interface SearchRow {
  id: string;
  title: string;
  description: string;
  version: number;
  pinned: number | boolean;
  tags: string | null;
  created_at: string | Date;
  updated_at: string | Date;
}

export const SEARCH_ROW_COLUMNS = "id, title, description, version, pinned, tags, created_at, updated_at";

export interface SearchContext {
  sequelize: Sequelize;
  dialect: Dialect;
}

/** A hit as ranked in code (a title read, the tier counted from it). */
export interface Candidate {
  id: string;
  title: string;
  updated_at: string | Date;
}

export interface Ranked extends Candidate {
  tier: number;
  at: number;
}

/** Candidates with their tier and time (named, not spread: a ranking reads up to a thousand rows). */
export const ranked = (rows: Candidate[], tier: (row: Candidate) => number): Ranked[] =>
  rows.map((r) => ({
    id: r.id,
    title: r.title,
    updated_at: r.updated_at,
    tier: tier(r),
    at: rowDate(r.updated_at).getTime(),
  }));

/** The search order: more of the words in the title first, then the most recently edited. */
export const byRank = (a: Ranked, b: Ranked) =>
  b.tier - a.tier || b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** Rows by id, in the order of `ids`. */
export async function rowsInOrder(db: SearchContext, ownerId: string, ids: string[]): Promise<SearchRow[]> {
  if (ids.length === 0) return [];
  const rows = await selectRows<SearchRow>(
    db,
    `SELECT ${SEARCH_ROW_COLUMNS} FROM notes WHERE id IN (${ids.map(() => "?").join(", ")}) AND owner_id = ?`,
    [...ids, ownerId],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** The escape clause that goes with `likePattern`: `column LIKE <pattern> ESCAPE '!'`. */
export const LIKE_ESCAPE = "ESCAPE '!'";

/** `%text%` for LIKE … ESCAPE '!', with the wildcards in `text` matched literally. */
export function likePattern(text: string): string {
  return `%${text.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

/**
 * The filter as SQL on the notes alias `n`, its values added to `replacements`. Tag conditions
 * are index lookups in note_tags by (tag, note).
 */
export function filterSql(filter: NoteFilter, inTitle: boolean, n: string, replacements: NamedValues): string {
  const parts: string[] = [];
  if (filter.pinned !== undefined) parts.push(`${n}.pinned = ${filter.pinned ? 1 : 0}`);
  if (filter.openTasks !== undefined) parts.push(`${n}.open_tasks = ${filter.openTasks ? 1 : 0}`);
  if (filter.before) {
    replacements.filterBefore = filter.before;
    parts.push(`${n}.updated_at < :filterBefore`);
  }
  if (filter.after) {
    replacements.filterAfter = filter.after;
    parts.push(`${n}.updated_at >= :filterAfter`);
  }
  filter.tagIds.forEach((id, i) => {
    replacements[`filterTag${i}`] = id;
    parts.push(`EXISTS (SELECT 1 FROM note_tags ft WHERE ft.tag_id = :filterTag${i} AND ft.note_id = ${n}.id)`);
  });
  if (filter.notTagIds.length > 0) {
    replacements.filterNotTags = filter.notTagIds;
    parts.push(`NOT EXISTS (SELECT 1 FROM note_tags fx WHERE fx.tag_id IN (:filterNotTags) AND fx.note_id = ${n}.id)`);
  }
  filter.phrases.forEach((phrase, i) => {
    replacements[`filterPhrase${i}`] = likePattern(phrase);
    const like = (column: string) => `${n}.${column} LIKE :filterPhrase${i} ${LIKE_ESCAPE}`;
    parts.push(inTitle ? like("title") : `(${like("title")} OR ${like("description")})`);
  });
  return parts.map((p) => ` AND ${p}`).join("");
}

/** Filters alone (SQLite; MariaDB/MySQL: filteredMysql): the owner's matching notes, most recently edited first. */
async function filtered(db: SearchContext, search: NoteSearch): Promise<SearchRow[]> {
  const replacements: NamedValues = {
    ownerId: search.ownerId,
    limit: search.limit,
    offset: search.offset,
  };
  const conditions = filterSql(search.filter, search.inTitle, "n", replacements);
  return selectNamed<SearchRow>(
    db,
    `SELECT ${SEARCH_ROW_COLUMNS.replace(/(\w+)/g, "n.$1")} FROM notes n
      WHERE n.owner_id = :ownerId AND n.deleted_at IS NULL${conditions}
      ORDER BY n.updated_at DESC, n.id DESC LIMIT :limit OFFSET :offset`,
    replacements,
  );
}

/**
 * The page [offset, offset + limit) of the owner's notes in the trash-free search order: with
 * words, notes with more of them in the title first, then the most recently edited; with filters
 * alone, the most recently edited first.
 */
export function searchNoteRows(db: SearchContext, search: NoteSearch): Promise<SearchRow[]> {
  if (db.dialect === "sqlite") return search.terms.length === 0 ? filtered(db, search) : searchSqlite(db, search);
  return search.terms.length === 0 ? filteredMysql(db, search) : searchMysql(db, search);
}
