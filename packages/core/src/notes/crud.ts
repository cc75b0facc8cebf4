// Notes owned by one user. Every query names the owner: another user's id is simply not found.
import {
  insertNote,
  newId,
  rowDate,
  rowDateOrNull,
  selectBounded,
  selectRows,
  updateNoteRow,
  type NoteEdit,
  type NoteRow,
  type RowParam,
  type Transaction,
} from "@notebox/db";
import type { CoreDeps } from "../deps";
import { AppError } from "../errors";
import { toNote, type Note, type NoteFields } from "./shape";
import { keepRevision } from "./revisions";
import { distinctTags, setNoteTags } from "./tags";

export const notFound = () => new AppError("NOT_FOUND", "No such note.");

export async function createNote({
  deps,
  ownerId,
  title,
  description,
  tags = [],
  pinned = false,
}: {
  deps: CoreDeps;
  ownerId: string;
  title: string;
  description: string;
  tags?: string[];
  pinned?: boolean;
}): Promise<Note> {
  const at = new Date();
  const values = { id: newId(), ownerId, title, description, pinned, at };
  // A new note was created and last updated at the same instant. One statement when there are no
  // tags to write, and no model instance (a hot path: bench/list).
  let shown: string[] = [];
  if (tags.length === 0) await insertNote(deps.db, values);
  else {
    shown = await deps.db.transaction(async (transaction) => {
      await insertNote(deps.db, values, transaction);
      return setNoteTags(deps, ownerId, values.id, distinctTags(tags), transaction);
    });
  }
  await deps.cache.invalidate("notes", ownerId);
  return toNote({
    id: values.id,
    title,
    description,
    tags: shown.length ? JSON.stringify(shown) : null,
    pinned,
    version: 1,
    createdAt: at,
    updatedAt: at,
    deletedAt: null,
  });
}

/** A note's columns as a plain row (see @notebox/db rows.ts). */
interface PlainNoteRow {
  id: string;
  title: string;
  description: string;
  tags: string | null;
  pinned: number | boolean;
  version: number;
  last_revision: number;
  revised_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
  deleted_at: Date | string | null;
}

/** A note as the hot paths read it: what its answer needs, and what its history needs. */
export type PlainNote = Omit<NoteFields, "excerpt"> & Pick<NoteRow, "lastRevision" | "revisedAt">;

const NOTE_COLUMNS =
  "id, title, description, tags, pinned, version, last_revision, revised_at, created_at, updated_at, deleted_at";

/**
 * One of the owner's notes by id, with `conditions` ANDed (" AND version = ?"), as a plain row; in
 * `transaction` with `lock`, its row locked until the commit (MySQL/MariaDB; SQLite's write
 * transaction already holds the whole database).
 */
async function selectNote(
  deps: CoreDeps,
  ownerId: string,
  id: string,
  {
    conditions = "",
    params = [],
    transaction,
    lock = false,
  }: {
    conditions?: string;
    params?: RowParam[];
    transaction?: Transaction;
    lock?: boolean;
  } = {},
): Promise<PlainNote | null> {
  const forUpdate = lock && deps.db.dialect !== "sqlite" ? " FOR UPDATE" : "";
  const sql = `SELECT ${NOTE_COLUMNS} FROM notes WHERE id = ? AND owner_id = ?${conditions}${forUpdate}`;
  const [row] = transaction
    ? await selectRows<PlainNoteRow>(deps.db, sql, [id, ownerId, ...params], transaction)
    : await selectBounded<PlainNoteRow>(deps.db, sql, [id, ownerId, ...params]);
  if (!row) return null;
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    tags: row.tags,
    pinned: Boolean(row.pinned),
    version: Number(row.version),
    lastRevision: Number(row.last_revision),
    revisedAt: rowDateOrNull(row.revised_at),
    createdAt: rowDate(row.created_at),
    updatedAt: rowDate(row.updated_at),
    deletedAt: rowDateOrNull(row.deleted_at),
  };
}

export async function getNote({ deps, ownerId, id }: { deps: CoreDeps; ownerId: string; id: string }): Promise<Note> {
  const note = await selectNote(deps, ownerId, id);
  if (!note) throw notFound();
  return toNote(note);
}

const versionNeeded = () => AppError.field("version", "Send the version you read.");

/**
 * Applies an edit only if the note is still at `version`: one conditional UPDATE, so two people
 * editing the same note can never overwrite each other unknowingly. A pin alone needs no version
 * and makes none: it changes no text, so it cannot undo an edit made meanwhile.
 */
export async function updateNote({
  deps,
  ownerId,
  id,
  version,
  title,
  description,
  tags,
  pinned,
}: {
  deps: CoreDeps;
  ownerId: string;
  id: string;
  version?: number;
  title?: string;
  description?: string;
  tags?: string[];
  pinned?: boolean;
}): Promise<Note> {
  const edits = title !== undefined || description !== undefined || tags !== undefined;
  if (edits && version === undefined) throw versionNeeded();
  const changes: Pick<NoteEdit, "title" | "description" | "pinned"> = {};
  if (title !== undefined) changes.title = title;
  if (description !== undefined) changes.description = description;
  if (pinned !== undefined) changes.pinned = pinned;
  // Title or text: the edit keeps the state it replaces (unless a benchmark measures it without).
  const texts = (title !== undefined || description !== undefined) && deps.revisions !== false;
  /** The note as this edit left it, when the edit read it first (with its history): no need to read it again. */
  let after: PlainNote | null = null;
  const edit = async (transaction?: Transaction) => {
    if (!edits) {
      if (pinned === undefined) return 0;
      return updateNoteRow(deps.db, { id, ownerId }, { pinned }, transaction);
    }
    const now = new Date();
    let kept = {};
    let before: PlainNote | null = null;
    if (texts) {
      // The state this edit replaces goes into the history first (see revisions.ts).
      before = await selectNote(deps, ownerId, id, {
        conditions: " AND version = ? AND deleted_at IS NULL",
        params: [version!],
        transaction,
        lock: true,
      });
      if (!before) return 0;
      const next = { title: title ?? before.title, description: description ?? before.description };
      kept = await keepRevision(deps, before, next, "edit", transaction!, now);
    }
    // The time written is `now`, the same as the kept revision's.
    const values = { ...changes, ...kept, version: version! + 1, updatedAt: now };
    const count = await updateNoteRow(deps.db, { id, ownerId, version: version! }, values, transaction);
    const written =
      count > 0 && tags !== undefined ? await setNoteTags(deps, ownerId, id, distinctTags(tags), transaction!) : null;
    // The row is locked: what it holds now is what was read plus what was written.
    if (count > 0 && before) after = { ...before, ...values, ...(written ? { tags: JSON.stringify(written) } : {}) };
    return count;
  };
  // A pin, or tags alone, is one conditional statement; a title or text keeps its history with it.
  const updated = !texts && tags === undefined ? await edit() : await deps.db.transaction(edit);
  if (updated > 0) await deps.cache.invalidate("notes", ownerId);
  if (after) return toNote(after);
  const note = await selectNote(deps, ownerId, id);
  if (!note || note.deletedAt !== null) throw notFound();
  if (edits && updated === 0) {
    throw new AppError("CONFLICT", "This note was changed elsewhere since you opened it.", {
      reason: "version_conflict",
      fieldErrors: { version: [`The note is now at version ${note.version}.`] },
    });
  }
  return toNote(note);
}
