// Keyset pagination over the owner's notes, pinned notes first, then in the order the person
// chose. The cursor holds the last row's pin, sort value and id, so a page is one or two index
// range scans (pinned, then the rest) however deep it is.
import { rowDate, rowDateOrNull, selectBounded, selectRows, type RowParam } from "@notebox/db";
import type { CoreDeps } from "../deps";
import { decodeCursor, encodeCursor, type Page } from "../pagination";
import { toSummary, type NoteSummary } from "./shape";
import { tagIdsOf } from "./tags";

export type NoteSort = "updated" | "created" | "title";

/** Newest first for dates; A to Z for titles. */
const descending = { updated: true, created: true, title: false } as const;

/** The last row's sort value and id; `p` 1 while still among the pinned notes. */
type ListCursor = { v: string; id: string; p?: 0 | 1 };
const isListCursor = (x: unknown): x is ListCursor =>
  typeof x === "object" &&
  x !== null &&
  typeof (x as ListCursor).v === "string" &&
  typeof (x as ListCursor).id === "string" &&
  [undefined, 0, 1].includes((x as ListCursor).p);

/** The columns of a list row, as plain values (see @notebox/db rows.ts). */
interface ListRow {
  id: string;
  title: string;
  title_key: string | null;
  excerpt: string;
  tags: string | null;
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
  deleted_at: Date | string | null;
}

const LIST_COLUMNS = "id, title, title_key, excerpt, tags, version, created_at, updated_at, deleted_at";
/** Titles sort by their folded key (no case, no accents), the same on every database. */
const sqlColumn = { updated: "updated_at", created: "created_at", title: "title_key" } as const;

async function readNotes({
  deps,
  ownerId,
  cursor,
  limit = 20,
  sort = "updated",
  trash = false,
  tag,
}: {
  deps: CoreDeps;
  ownerId: string;
  cursor?: string | null;
  limit?: number;
  sort?: NoteSort;
  trash?: boolean;
  /** Only notes with this tag. */
  tag?: string;
}): Promise<Page<NoteSummary>> {
  const column = sqlColumn[sort];
  const desc = descending[sort];
  const after = decodeCursor(cursor, isListCursor);
  let tagFilter = "";
  const tagParams: RowParam[] = [];
  if (tag !== undefined) {
    const tagId = (await tagIdsOf(deps, ownerId, [tag])).values().next().value;
    if (tagId === undefined) return { items: [], nextCursor: null };
    tagFilter = " AND id IN (SELECT note_id FROM note_tags WHERE tag_id = ?)";
    tagParams.push(tagId);
  }
  const direction = desc ? "DESC" : "ASC";
  const beyond = desc ? "<" : ">";
  const rows: { row: ListRow; pinned: 0 | 1 }[] = [];
  // Pinned notes first, then the rest: each an index range scan of (owner, trash, pin, column, id).
  for (const pinned of [1, 0] as const) {
    if (after && (after.p ?? 0) < pinned) continue;
    const params: RowParam[] = [ownerId, pinned === 1];
    let keyset = "";
    if (after && (after.p ?? 0) === pinned) {
      const value = column === "title_key" ? after.v : new Date(after.v);
      keyset = ` AND (${column} ${beyond} ? OR (${column} = ? AND id ${beyond} ?))`;
      params.push(value, value, after.id);
    }
    // Without a tag, one index range read up to the page's end; with one, it may walk many notes.
    const select = tagFilter ? selectRows : selectBounded;
    const found = await select<ListRow>(
      deps.db,
      `SELECT ${LIST_COLUMNS} FROM notes
        WHERE owner_id = ? AND deleted_at IS ${trash ? "NOT NULL" : "NULL"} AND pinned = ?${keyset}${tagFilter}
        ORDER BY ${column} ${direction}, id ${direction} LIMIT ${limit + 1 - rows.length}`,
      [...params, ...tagParams],
    );
    rows.push(...found.map((row) => ({ row, pinned })));
    if (rows.length > limit) break;
  }
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const lastValue = last
    ? column === "title_key"
      ? (last.row.title_key ?? "")
      : rowDate(last.row[column]).toISOString()
    : null;
  return {
    items: items.map(({ row, pinned }) =>
      toSummary({
        id: row.id,
        title: row.title,
        excerpt: row.excerpt,
        tags: row.tags,
        pinned: pinned === 1,
        version: Number(row.version),
        createdAt: rowDate(row.created_at),
        updatedAt: rowDate(row.updated_at),
        deletedAt: rowDateOrNull(row.deleted_at),
      }),
    ),
    nextCursor:
      rows.length > limit && last && lastValue !== null
        ? encodeCursor({ v: lastValue, id: last.row.id, p: last.pinned })
        : null,
  };
}

/**
 * A page of the owner's notes (or trash), from the read cache when nothing of theirs changed since
 * (cache.ts: every write of a note calls `invalidate("notes", owner)` once it is committed).
 */
export function listNotes(params: Parameters<typeof readNotes>[0]): ReturnType<typeof readNotes> {
  const { deps, ownerId } = params;
  return deps.cache.remember(
    "notes",
    ownerId,
    [
      params.trash ? "trash" : "list",
      {
        cursor: params.cursor ?? null,
        limit: params.limit ?? null,
        sort: params.sort ?? null,
        tag: params.tag ?? null,
      },
    ],
    () => readNotes(params),
  );
}
