// Files inside notes: a file uploaded into a note keeps the note's id. It is listed in Files like
// any other, goes to the trash with its note and comes back with it, and is removed with it.
import { Op, type Transaction, type WhereOptions, type NoteRow } from "@notebox/db";
import type { CoreDeps } from "../deps";
import { notFound } from "../notes/crud";

/** Whether the note is the owner's and in the list (not in the trash): the only notes a file can be added to. */
export async function isLiveNote(
  deps: Pick<CoreDeps, "db">,
  ownerId: string,
  noteId: string,
  transaction?: Transaction,
): Promise<boolean> {
  const note = await deps.db.models.Note.findOne({
    attributes: ["id"],
    where: { id: noteId, ownerId, deletedAt: null },
    transaction,
    // Held to the commit: the note cannot go to the trash between this check and the file's insert.
    ...(transaction ? { lock: transaction.LOCK.SHARE } : {}),
  });
  return note !== null;
}

/** 404 unless the note is the owner's and in the list. */
export async function assertLiveNote(
  deps: Pick<CoreDeps, "db">,
  ownerId: string,
  noteId: string,
  transaction?: Transaction,
): Promise<void> {
  if (!(await isLiveNote(deps, ownerId, noteId, transaction))) throw notFound();
}

/** The note's files go to the trash with it, marked with the note's own time so they come back with it. */
export async function trashAttachments(
  deps: Pick<CoreDeps, "db">,
  noteIds: string[],
  at: Date,
  transaction?: Transaction,
): Promise<number> {
  if (noteIds.length === 0) return 0;
  const [count] = await deps.db.models.File.update(
    { deletedAt: at },
    { where: { noteId: { [Op.in]: noteIds }, deletedAt: null }, transaction, silent: true },
  );
  return count;
}

/**
 * Brings back the files that went to the trash with these notes (same time as the note); a file
 * trashed on its own before stays in the trash.
 */
export async function restoreAttachments(
  deps: Pick<CoreDeps, "db">,
  notes: Pick<NoteRow, "id" | "deletedAt">[],
  transaction?: Transaction,
): Promise<number> {
  const byTime = new Map<number, string[]>();
  for (const note of notes) {
    if (!note.deletedAt) continue;
    const ids = byTime.get(note.deletedAt.getTime()) ?? [];
    ids.push(note.id);
    byTime.set(note.deletedAt.getTime(), ids);
  }
  let count = 0;
  for (const [time, ids] of byTime) {
    const [n] = await deps.db.models.File.update(
      { deletedAt: null },
      { where: { noteId: { [Op.in]: ids }, deletedAt: new Date(time) }, transaction, silent: true },
    );
    count += n;
  }
  return count;
}

/**
 * Removes the rows of every file of the notes matched by `notes` (run before the notes are
 * destroyed, in the same transaction) and returns where their bytes are, for `dropBytes` after
 * the commit.
 */
export async function removeAttachments(
  deps: Pick<CoreDeps, "db">,
  notes: WhereOptions<NoteRow>,
  transaction?: Transaction,
): Promise<{ ownerIds: string[]; storageKeys: string[] }> {
  const { File, Note } = deps.db.models;
  const noteIds = (await Note.findAll({ attributes: ["id"], where: notes, transaction, raw: true })).map((n) => n.id);
  if (noteIds.length === 0) return { ownerIds: [], storageKeys: [] };
  const rows = await File.findAll({
    attributes: ["id", "ownerId", "storageKey"],
    where: { noteId: { [Op.in]: noteIds } },
    transaction,
    raw: true,
  });
  if (rows.length) await File.destroy({ where: { id: { [Op.in]: rows.map((r) => r.id) } }, transaction });
  return { ownerIds: [...new Set(rows.map((r) => r.ownerId))], storageKeys: rows.map((r) => r.storageKey) };
}

/** Removes stored bytes whose rows are gone; what cannot be removed now, the orphan sweeper removes later. */
export async function dropBytes(deps: Pick<CoreDeps, "storage" | "logger">, storageKeys: string[]): Promise<void> {
  const results = await Promise.allSettled(storageKeys.map((key) => deps.storage.delete(key)));
  const failed = results.filter((r) => r.status === "rejected").length;
  if (failed) deps.logger.warn({ failed }, "stored bytes not removed; the sweeper will retry");
}

/** The ids and names of each note's files in the list, for the JSON export. */
export async function attachmentsOf(
  deps: Pick<CoreDeps, "db">,
  noteIds: string[],
): Promise<Map<string, { id: string; name: string }[]>> {
  const byNote = new Map<string, { id: string; name: string }[]>();
  if (noteIds.length === 0) return byNote;
  const rows = await deps.db.models.File.findAll({
    attributes: ["id", "name", "noteId", "createdAt"],
    where: { noteId: { [Op.in]: noteIds }, deletedAt: null },
    order: [
      ["createdAt", "ASC"],
      ["id", "ASC"],
    ],
    raw: true,
  });
  for (const row of rows) {
    const list = byNote.get(row.noteId!) ?? [];
    list.push({ id: row.id, name: row.name });
    byNote.set(row.noteId!, list);
  }
  return byNote;
}
