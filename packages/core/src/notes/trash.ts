// The trash: delete moves a note there, restore brings it back, purge removes it for good, and
// notes left there for 30 days are purged by the scheduled sweep.
import { Op } from "@notebox/db";
import type { CoreDeps } from "../deps";
import { findOwnNote, notFound } from "./crud";
import { dropUnusedTags } from "./tags";
import { toNote, type Note } from "./shape";

export const TRASH_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

export async function trashNote({ deps, ownerId, id }: { deps: CoreDeps; ownerId: string; id: string }): Promise<Note> {
  const note = await findOwnNote(deps, ownerId, id);
  await note.update({ deletedAt: new Date() }, { silent: true });
  await deps.cache.invalidate("notes", ownerId);
  return toNote(note);
}

export async function restoreNote({
  deps,
  ownerId,
  id,
}: {
  deps: CoreDeps;
  ownerId: string;
  id: string;
}): Promise<Note> {
  const note = await findOwnNote(deps, ownerId, id, { inTrash: true });
  await note.update({ deletedAt: null }, { silent: true });
  await deps.cache.invalidate("notes", ownerId);
  return toNote(note);
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
  const purged = await deps.db.models.Note.destroy({ where });
  if (id && purged === 0) throw notFound();
  await dropUnusedTags(deps, ownerId);
  if (purged > 0) await deps.cache.invalidate("notes", ownerId);
  return { purged };
}

export async function purgeOldTrash({ deps, now = new Date() }: { deps: Pick<CoreDeps, "db" | "cache">; now?: Date }) {
  const { Note } = deps.db.models;
  const where = { deletedAt: { [Op.lte]: new Date(now.getTime() - TRASH_RETENTION_MS) } };
  const owners = await Note.findAll({ attributes: ["ownerId"], where, group: ["ownerId"], raw: true });
  const purged = await Note.destroy({ where });
  for (const { ownerId } of owners) {
    await dropUnusedTags(deps, ownerId);
    await deps.cache.invalidate("notes", ownerId);
  }
  return purged;
}
