// Keyset pagination over the owner's notes, in the order the person chose. The cursor holds the
// last row's sort value and id, so a page is one index range scan however deep it is.
import { col, fn, Op, type NoteRow, type WhereOptions } from "@notebox/db";
import type { CoreDeps } from "../deps";
import { decodeKeyCursor, encodeCursor, keysetAfter, type Page } from "../pagination";
import { EXCERPT_LENGTH, toSummary, type NoteSummary } from "./shape";

export type NoteSort = "updated" | "created" | "title";

/** Titles sort by their folded key (no case, no accents), the same on every database. */
const sortColumn = { updated: "updatedAt", created: "createdAt", title: "titleKey" } as const;
/** Newest first for dates; A to Z for titles. */
const descending = { updated: true, created: true, title: false } as const;

async function readNotes({
  deps,
  ownerId,
  cursor,
  limit = 20,
  sort = "updated",
  trash = false,
}: {
  deps: CoreDeps;
  ownerId: string;
  cursor?: string | null;
  limit?: number;
  sort?: NoteSort;
  trash?: boolean;
}): Promise<Page<NoteSummary>> {
  const column = sortColumn[sort];
  const desc = descending[sort];
  const after = decodeKeyCursor(cursor);
  const where: WhereOptions<NoteRow> = {
    ownerId,
    deletedAt: trash ? { [Op.ne]: null } : null,
  };
  if (after)
    Object.assign(where, keysetAfter(column, column === "titleKey" ? after.v : new Date(after.v), after.id, desc));
  const direction = desc ? "DESC" : "ASC";
  const rows = await deps.db.models.Note.findAll({
    // Only the start of the text is needed for the excerpt; notes can be 100 KB each.
    attributes: {
      exclude: ["description", "ownerKey"],
      include: [[fn("substr", col("description"), 1, EXCERPT_LENGTH + 40), "description"]],
    },
    where,
    order: [
      [column, direction],
      ["id", direction],
    ],
    limit: limit + 1,
  });
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const lastValue = last ? (column === "titleKey" ? (last.titleKey ?? "") : last[column].toISOString()) : null;
  return {
    items: items.map(toSummary),
    nextCursor: rows.length > limit && last && lastValue !== null ? encodeCursor({ v: lastValue, id: last.id }) : null,
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
      { cursor: params.cursor ?? null, limit: params.limit ?? null, sort: params.sort ?? null },
    ],
    () => readNotes(params),
  );
}
