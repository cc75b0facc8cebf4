// Notes owned by one user. Every query names the owner: another user's id is simply not found.
import { newId, ownerKeyOf, type NoteRow } from "@notebox/db";
import type { CoreDeps } from "../deps";
import { AppError } from "../errors";
import { toNote, type Note } from "./shape";

export const notFound = () => new AppError("NOT_FOUND", "No such note.");

export async function findOwnNote(
  deps: CoreDeps,
  ownerId: string,
  id: string,
  { inTrash = false }: { inTrash?: boolean } = {},
): Promise<NoteRow> {
  const note = await deps.db.models.Note.findOne({ where: { id, ownerId } });
  if (!note || (note.deletedAt !== null) !== inTrash) throw notFound();
  return note;
}

export async function createNote({
  deps,
  ownerId,
  title,
  description,
}: {
  deps: CoreDeps;
  ownerId: string;
  title: string;
  description: string;
}): Promise<Note> {
  const now = new Date();
  const note = await deps.db.models.Note.create(
    {
      id: newId(),
      ownerId,
      ownerKey: ownerKeyOf(ownerId),
      title,
      description,
      createdAt: now,
      updatedAt: now,
    },
    // Keeps our updatedAt rather than Sequelize's own clock reading a moment later: a new note
    // was created and last updated at the same instant.
    { silent: true },
  );
  await deps.cache.invalidate("notes", ownerId);
  return toNote(note);
}

export async function getNote({ deps, ownerId, id }: { deps: CoreDeps; ownerId: string; id: string }): Promise<Note> {
  const note = await deps.db.models.Note.findOne({ where: { id, ownerId } });
  if (!note) throw notFound();
  return toNote(note);
}

/**
 * Applies an edit only if the note is still at `version`: one conditional UPDATE, so two people
 * editing the same note can never overwrite each other unknowingly.
 */
export async function updateNote({
  deps,
  ownerId,
  id,
  version,
  title,
  description,
}: {
  deps: CoreDeps;
  ownerId: string;
  id: string;
  version: number;
  title?: string;
  description?: string;
}): Promise<Note> {
  const { Note } = deps.db.models;
  const changes: Partial<Pick<NoteRow, "title" | "description">> = {};
  if (title !== undefined) changes.title = title;
  if (description !== undefined) changes.description = description;
  const [updated] = await Note.update(
    { ...changes, version: version + 1, updatedAt: new Date() },
    { where: { id, ownerId, version, deletedAt: null } },
  );
  if (updated > 0) await deps.cache.invalidate("notes", ownerId);
  const note = await Note.findOne({ where: { id, ownerId } });
  if (!note || note.deletedAt !== null) throw notFound();
  if (updated === 0) {
    throw new AppError("CONFLICT", "This note was changed elsewhere since you opened it.", {
      reason: "version_conflict",
      fieldErrors: { version: [`The note is now at version ${note.version}.`] },
    });
  }
  return toNote(note);
}
