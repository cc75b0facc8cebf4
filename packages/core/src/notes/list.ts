// Keyset pagination over the owner's notes, pinned notes first, then in the order the person
// chose. The cursor holds the last row's pin, sort value and id, so a page is one or two index
// range scans (pinned, then the rest) however deep it is.
import { literal, Op, type NoteRow, type WhereOptions } from "@notebox/db";
import type { CoreDeps } from "../deps";
import { decodeCursor, encodeCursor, keysetAfter, type Page } from "../pagination";
import { toSummary, type NoteSummary } from "./shape";
import { tagIdsOf } from "./tags";

export type NoteSort = "updated" | "created" | "title";

/** Titles sort by their folded key (no case, no accents), the same on every database. */
const sortColumn = { updated: "updatedAt", created: "createdAt", title: "titleKey" } as const;
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
  const column = sortColumn[sort];
  const desc = descending[sort];
  const after = decodeCursor(cursor, isListCursor);
  const where: WhereOptions<NoteRow> = { ownerId, deletedAt: trash ? { [Op.ne]: null } : null };
  if (tag !== undefined) {
    const tagId = (await tagIdsOf(deps, ownerId, [tag])).values().next().value;
    if (tagId === undefined) return { items: [], nextCursor: null };
    Object.assign(where, {
      id: { [Op.in]: literal(`(SELECT note_id FROM note_tags WHERE tag_id = ${deps.db.sequelize.escape(tagId)})`) },
    });
  }
  const direction = desc ? "DESC" : "ASC";
  const rows: { row: NoteRow; pinned: 0 | 1 }[] = [];
  for (const pinned of [1, 0] as const) {
    if (after && (after.p ?? 0) < pinned) continue;
    const keyset =
      after && (after.p ?? 0) === pinned
        ? keysetAfter(column, column === "titleKey" ? after.v : new Date(after.v), after.id, desc)
        : {};
    const found = await deps.db.models.Note.findAll({
      attributes: { exclude: ["description"] },
      where: { ...where, pinned: pinned === 1, ...keyset },
      order: [
        [column, direction],
        ["id", direction],
      ],
      limit: limit + 1 - rows.length,
    });
    rows.push(...found.map((row) => ({ row, pinned })));
    if (rows.length > limit) break;
  }
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const lastValue = last ? (column === "titleKey" ? (last.row.titleKey ?? "") : last.row[column].toISOString()) : null;
  return {
    items: items.map(({ row }) => toSummary(row)),
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
