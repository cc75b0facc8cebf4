// The owner's files: every query names the owner, so another user's id is simply not found.
// Deleting moves a file to the trash; restore brings it back; purge removes the row and the bytes.
import {
  LIKE_ESCAPE,
  likePattern,
  Op,
  selectBounded,
  selectRows,
  type FileRow,
  type RowParam,
  type Transaction,
  type WhereOptions,
} from "@notebox/db";
import type { CoreDeps } from "../deps";
import { AppError } from "../errors";
import { decodeKeyCursor, encodeCursor, type Page } from "../pagination";
import { assertLiveNote, dropBytes, isLiveNote } from "./attachments";
import { cleanFileName } from "./names";
import { FILE_COLUMNS, fromPlainRow, toFileRecord, type FilePlainRow, type FileRecord } from "./shape";

const fileNotFound = () => new AppError("NOT_FOUND", "No such file.");

/** One of the owner's files in the list, or with `inTrash` one in their trash; else 404. */
export async function findOwnFile(
  deps: CoreDeps,
  ownerId: string,
  id: string,
  { inTrash = false, transaction }: { inTrash?: boolean; transaction?: Transaction } = {},
): Promise<FileRow> {
  const file = await deps.db.models.File.findOne({
    where: { id, ownerId },
    transaction,
    ...(transaction ? { lock: transaction.LOCK.UPDATE } : {}),
  });
  if (!file || (file.deletedAt !== null) !== inTrash) throw fileNotFound();
  return file;
}

/**
 * Newest first, optionally only names containing `q`, only the files of one note (`noteId`, one
 * of the owner's notes in the list, else 404), or the trash (most recently trashed first).
 */
async function readFiles({
  deps,
  ownerId,
  cursor,
  limit = 50,
  q,
  noteId,
  trash = false,
}: {
  deps: CoreDeps;
  ownerId: string;
  cursor?: string | null;
  limit?: number;
  q?: string;
  noteId?: string;
  trash?: boolean;
}): Promise<Page<FileRecord>> {
  const order = trash ? "deleted_at" : "created_at";
  const params: RowParam[] = [ownerId];
  let conditions = `owner_id = ? AND deleted_at IS ${trash ? "NOT NULL" : "NULL"}`;
  if (noteId !== undefined) {
    conditions += " AND note_id = ?";
    params.push(noteId);
  }
  const term = q?.trim();
  if (term) {
    conditions += ` AND name LIKE ? ${LIKE_ESCAPE}`;
    params.push(likePattern(term));
  }
  const after = decodeKeyCursor(cursor);
  if (after) {
    const at = new Date(after.v);
    conditions += ` AND (${order} < ? OR (${order} = ? AND id < ?))`;
    params.push(at, at, after.id);
  }
  // A name filter may read every file of the owner; otherwise one index range up to the page's end.
  const select = term ? selectRows : selectBounded;
  const rows = (
    await select<FilePlainRow>(
      deps.db,
      `SELECT ${FILE_COLUMNS} FROM files WHERE ${conditions} ORDER BY ${order} DESC, id DESC LIMIT ${limit + 1}`,
      params,
    )
  ).map(fromPlainRow);
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const lastAt = last && (trash ? last.deletedAt : last.createdAt);
  return {
    items: items.map(toFileRecord),
    nextCursor: rows.length > limit && last && lastAt ? encodeCursor({ v: lastAt.toISOString(), id: last.id }) : null,
  };
}

export async function getFile({
  deps,
  ownerId,
  id,
}: {
  deps: CoreDeps;
  ownerId: string;
  id: string;
}): Promise<FileRecord> {
  const [row] = await selectBounded<FilePlainRow>(
    deps.db,
    `SELECT ${FILE_COLUMNS} FROM files WHERE id = ? AND owner_id = ? AND deleted_at IS NULL`,
    [id, ownerId],
  );
  if (!row) throw fileNotFound();
  return toFileRecord(fromPlainRow(row));
}

export async function renameFile({
  deps,
  ownerId,
  id,
  name,
}: {
  deps: CoreDeps;
  ownerId: string;
  id: string;
  name: string;
}): Promise<FileRecord> {
  const file = await findOwnFile(deps, ownerId, id);
  await file.update({ name: cleanFileName(name) });
  await deps.cache.invalidate("files", ownerId);
  return toFileRecord(file);
}

/** Moves the file to the trash: out of the list and unreadable, still counted against the quota. */
export async function trashFile({
  deps,
  ownerId,
  id,
}: {
  deps: CoreDeps;
  ownerId: string;
  id: string;
}): Promise<FileRecord> {
  // The row held while it is written: a note trashed in the same instant either takes the file
  // with it (and this answers 404) or finds it already in the trash with its own time.
  const file = await deps.db.transaction(async (transaction) => {
    const file = await findOwnFile(deps, ownerId, id, { transaction });
    await file.update({ deletedAt: new Date() }, { silent: true, transaction });
    return file;
  });
  await deps.cache.invalidate("files", ownerId);
  return toFileRecord(file);
}

/**
 * Brings a file back from the trash. A file whose note is in the trash (or gone) comes back on
 * its own: it leaves the note, so purging the note later does not take it.
 */
export async function restoreFile({
  deps,
  ownerId,
  id,
}: {
  deps: CoreDeps;
  ownerId: string;
  id: string;
}): Promise<FileRecord> {
  // One transaction, the note's row held: it cannot go to the trash between the check and the write.
  const file = await deps.db.transaction(async (transaction) => {
    const file = await findOwnFile(deps, ownerId, id, { inTrash: true, transaction });
    const keepsNote = file.noteId !== null && (await isLiveNote(deps, ownerId, file.noteId, transaction));
    await file.update({ deletedAt: null, noteId: keepsNote ? file.noteId : null }, { silent: true, transaction });
    return file;
  });
  await deps.cache.invalidate("files", ownerId);
  return toFileRecord(file);
}

/**
 * Removes trashed files matched by `where`, in batches so a trash of 100,000 files never holds
 * the writer or the memory for all of them: each batch's rows are read under lock and removed in
 * one transaction (a restore at the same moment either comes first or finds the file gone), then
 * their bytes. Calls `removed` with each batch's owners.
 */
async function purgeTrashed(
  deps: Pick<CoreDeps, "db" | "storage" | "logger">,
  where: WhereOptions<FileRow>,
  { limit = 500, once = false }: { limit?: number; once?: boolean } = {},
): Promise<{ purged: number; ownerIds: Set<string> }> {
  const { File } = deps.db.models;
  let purged = 0;
  const ownerIds = new Set<string>();
  for (;;) {
    const rows = await deps.db.transaction(async (transaction) => {
      const rows = await File.findAll({
        attributes: ["id", "ownerId", "storageKey"],
        where,
        limit,
        transaction,
        lock: transaction.LOCK.UPDATE,
      });
      if (rows.length) await File.destroy({ where: { id: { [Op.in]: rows.map((r) => r.id) } }, transaction });
      return rows;
    });
    if (rows.length === 0) break;
    purged += rows.length;
    for (const row of rows) ownerIds.add(row.ownerId);
    await dropBytes(
      deps,
      rows.map((r) => r.storageKey),
    );
    if (once) break;
  }
  return { purged, ownerIds };
}

/** Removes one trashed file, or every trashed file of the owner when `id` is not given: rows, then bytes. */
export async function purgeFileTrash({
  deps,
  ownerId,
  id,
}: {
  deps: CoreDeps;
  ownerId: string;
  id?: string;
}): Promise<{ purged: number }> {
  const where = { ownerId, deletedAt: { [Op.ne]: null }, ...(id ? { id } : {}) };
  const { purged } = await purgeTrashed(deps, where, { once: id !== undefined });
  if (id && purged === 0) throw fileNotFound();
  if (purged > 0) await deps.cache.invalidate("files", ownerId);
  return { purged };
}

/** Every owner's files trashed at or before `before` (the trash's retention is notes/trash.ts's). */
export async function purgeFilesTrashedBefore(
  deps: Pick<CoreDeps, "db" | "cache" | "storage" | "logger">,
  before: Date,
): Promise<number> {
  const { purged, ownerIds } = await purgeTrashed(deps, { deletedAt: { [Op.lte]: before } });
  for (const ownerId of ownerIds) await deps.cache.invalidate("files", ownerId);
  return purged;
}

/**
 * Adds one of the owner's files to one of their notes in the list (a file pasted into a note that
 * was not saved yet), or takes it out of its note with `noteId: null`.
 */
export async function attachFile({
  deps,
  ownerId,
  id,
  noteId,
}: {
  deps: CoreDeps;
  ownerId: string;
  id: string;
  noteId: string | null;
}): Promise<FileRecord> {
  // As in restoreFile: the note cannot go to the trash between the check and the write.
  const file = await deps.db.transaction(async (transaction) => {
    const file = await findOwnFile(deps, ownerId, id, { transaction });
    if (noteId !== null) await assertLiveNote(deps, ownerId, noteId, transaction);
    await file.update({ noteId }, { silent: true, transaction });
    return file;
  });
  await deps.cache.invalidate("files", ownerId);
  return toFileRecord(file);
}

/**
 * A page of the owner's files, from the read cache when none of their files changed since (see
 * listNotes). The note is checked outside the cache: it can go to the trash without a file changing.
 */
export async function listFiles(params: Parameters<typeof readFiles>[0]): ReturnType<typeof readFiles> {
  const { deps, ownerId, noteId } = params;
  if (noteId !== undefined) await assertLiveNote(deps, ownerId, noteId);
  return deps.cache.remember(
    "files",
    ownerId,
    [
      "list",
      {
        q: params.q ?? null,
        cursor: params.cursor ?? null,
        limit: params.limit ?? null,
        noteId: params.noteId ?? null,
        trash: params.trash ?? false,
      },
    ],
    () => readFiles(params),
  );
}
