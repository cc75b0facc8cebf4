// The trash: delete moves a note there, restore brings it back, purge removes it for good, and
// notes left there for 30 days are purged by the scheduled sweep. A note's files go and come
// back with it, and are removed with it (files/attachments.ts).
import { Op, type NoteRow, type Transaction, type WhereOptions } from "@notebox/db";
import type { CoreDeps } from "../deps";
import { dropBytes, removeAttachments, restoreAttachments, trashAttachments } from "../files/attachments";
import { purgeFilesTrashedBefore } from "../files/crud";
import { notFound } from "./crud";
import { dropUnusedTags } from "./tags";
import { toNote, type Note } from "./shape";

export const TRASH_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** Notes removed per statement by the scheduled purge, with their files and revisions. */
const PURGE_BATCH = 500;

/**
 * Moves the note to the trash with its files, marked with one time (how they come back together).
 * Conditional on the note being in the list, under its row lock: of two deletes at once, the
 * second finds it gone (404) rather than moving the time its files were marked with.
 */
export async function trashNote({ deps, ownerId, id }: { deps: CoreDeps; ownerId: string; id: string }): Promise<Note> {
  const at = new Date();
  const { note, attachments } = await deps.db.transaction(async (transaction) => {
    const note = await deps.db.models.Note.findOne({
      where: { id, ownerId, deletedAt: null },
      transaction,
      lock: transaction.LOCK.UPDATE,
    });
    if (!note) throw notFound();
    await note.update({ deletedAt: at }, { silent: true, transaction });
    return { note, attachments: await trashAttachments(deps, [note.id], at, transaction) };
  });
  await deps.cache.invalidate("notes", ownerId);
  if (attachments) await deps.cache.invalidate("files", ownerId);
  return toNote(note);
}

/** Brings the note back from the trash, and the files that went there with it. */
export async function restoreNote({
  deps,
  ownerId,
  id,
}: {
  deps: CoreDeps;
  ownerId: string;
  id: string;
}): Promise<Note> {
  const { note, attachments } = await deps.db.transaction(async (transaction) => {
    const note = await deps.db.models.Note.findOne({
      where: { id, ownerId, deletedAt: { [Op.ne]: null } },
      transaction,
      lock: transaction.LOCK.UPDATE,
    });
    if (!note) throw notFound();
    const trashed = { id: note.id, deletedAt: note.deletedAt };
    await note.update({ deletedAt: null }, { silent: true, transaction });
    return { note, attachments: await restoreAttachments(deps, [trashed], transaction) };
  });
  await deps.cache.invalidate("notes", ownerId);
  if (attachments) await deps.cache.invalidate("files", ownerId);
  return toNote(note);
}

/**
 * Destroys the notes matched by `where` with their files' rows (revisions go by cascade), in the
 * caller's transaction: every way a note leaves for good goes through here. The caller removes
 * the returned bytes (`dropBytes`) after the commit.
 */
export async function destroyNotesIn(
  deps: Pick<CoreDeps, "db">,
  where: WhereOptions<NoteRow>,
  transaction: Transaction,
) {
  const removed = await removeAttachments(deps, where, transaction);
  const purged = await deps.db.models.Note.destroy({ where, transaction });
  return { purged, ...removed };
}

async function destroyNotes(deps: CoreDeps, where: WhereOptions<NoteRow>): Promise<number> {
  const { purged, storageKeys, ownerIds } = await deps.db.transaction((transaction) =>
    destroyNotesIn(deps, where, transaction),
  );
  await dropBytes(deps, storageKeys);
  for (const ownerId of ownerIds) await deps.cache.invalidate("files", ownerId);
  return purged;
}

/** Removes one trashed note, or every trashed note of the owner when `id` is not given. */
export async function purgeTrash({
  deps,
  ownerId,
  id,
}: {
  deps: CoreDeps;
  ownerId: string;
  id?: string;
}): Promise<{ purged: number }> {
  const where = { ownerId, deletedAt: { [Op.ne]: null }, ...(id ? { id } : {}) };
  const purged = await destroyNotes(deps, where);
  if (id && purged === 0) throw notFound();
  await dropUnusedTags(deps, ownerId);
  if (purged > 0) await deps.cache.invalidate("notes", ownerId);
  return { purged };
}

/** Notes and files in the trash for 30 days, of every owner. Returns the number of notes purged. */
export async function purgeOldTrash({ deps, now = new Date() }: { deps: CoreDeps; now?: Date }) {
  const { Note } = deps.db.models;
  const before = new Date(now.getTime() - TRASH_RETENTION_MS);
  let purged = 0;
  for (;;) {
    const batch = await Note.findAll({
      attributes: ["id", "ownerId"],
      where: { deletedAt: { [Op.lte]: before } },
      limit: PURGE_BATCH,
      raw: true,
    });
    if (batch.length === 0) break;
    purged += await destroyNotes(deps, { id: { [Op.in]: batch.map((n) => n.id) } });
    for (const ownerId of new Set(batch.map((n) => n.ownerId))) {
      await dropUnusedTags(deps, ownerId);
      await deps.cache.invalidate("notes", ownerId);
    }
  }
  await purgeFilesTrashedBefore(deps, before);
  return purged;
}
