// One action on several of the owner's notes at once, all or nothing: every id must be one of
// the caller's notes (else 404 and nothing changes), and the action runs in one transaction.
import { Op, tagKey, tagNamesOf, TAGS_PER_NOTE_MAX, type Transaction } from "@notebox/db";
import type { CoreDeps } from "../deps";
import { AppError } from "../errors";
import { dropBytes, restoreAttachments, trashAttachments } from "../files/attachments";
import { notFound } from "./crud";
import { distinctTags, dropUnusedTags, setNoteTags } from "./tags";
import { destroyNotesIn } from "./trash";

export const BULK_ACTIONS = ["trash", "restore", "purge", "tag", "untag"] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

export async function bulkNotes({
  deps,
  ownerId,
  ids,
  action,
  tag,
}: {
  deps: CoreDeps;
  ownerId: string;
  ids: string[];
  action: BulkAction;
  tag?: string;
}): Promise<{ affected: number }> {
  const { Note } = deps.db.models;
  const unique = [...new Set(ids)];
  const [tagName] = distinctTags(tag === undefined ? [] : [tag]);
  if ((action === "tag" || action === "untag") && tagName === undefined) throw AppError.field("tag", "Name the tag.");
  let filesChanged = false;
  let storageKeys: string[] = [];
  const affected = await deps.db.transaction(async (transaction: Transaction) => {
    const notes = await Note.findAll({
      attributes: ["id", "deletedAt", "tags"],
      where: { ownerId, id: { [Op.in]: unique } },
      transaction,
      lock: transaction.LOCK.UPDATE,
    });
    if (notes.length !== unique.length) throw notFound();
    const where = { ownerId, id: { [Op.in]: unique } };
    switch (action) {
      case "trash": {
        const at = new Date();
        const [n] = await Note.update(
          { deletedAt: at },
          { where: { ...where, deletedAt: null }, transaction, silent: true },
        );
        const live = notes.filter((note) => note.deletedAt === null).map((note) => note.id);
        filesChanged = (await trashAttachments(deps, live, at, transaction)) > 0;
        return n;
      }
      case "restore": {
        const [n] = await Note.update(
          { deletedAt: null },
          { where: { ...where, deletedAt: { [Op.ne]: null } }, transaction, silent: true },
        );
        filesChanged = (await restoreAttachments(deps, notes, transaction)) > 0;
        return n;
      }
      case "purge": {
        // Only from the trash: a note still in the list goes there first, with its undo.
        if (notes.some((note) => note.deletedAt === null)) {
          throw new AppError("CONFLICT", "Move these notes to the trash before deleting them for good.", {
            reason: "not_in_trash",
          });
        }
        const removed = await destroyNotesIn(deps, where, transaction);
        storageKeys = removed.storageKeys;
        filesChanged = storageKeys.length > 0;
        await dropUnusedTags(deps, ownerId, transaction);
        return removed.purged;
      }
      case "tag":
      case "untag": {
        let n = 0;
        for (const note of notes) {
          const names = tagNamesOf(note);
          const next =
            action === "tag"
              ? distinctTags([...names, tagName!])
              : names.filter((name) => tagKey(name) !== tagKey(tagName!));
          if (next.length === names.length) continue;
          if (next.length > TAGS_PER_NOTE_MAX) {
            throw AppError.field(
              "tag",
              `A note can have at most ${TAGS_PER_NOTE_MAX} tags; one of these has that many.`,
            );
          }
          await setNoteTags(deps, ownerId, note.id, next, transaction);
          await Note.increment("version", { where: { id: note.id, ownerId }, transaction, silent: true });
          n++;
        }
        return n;
      }
    }
  });
  await dropBytes(deps, storageKeys);
  if (affected > 0) await deps.cache.invalidate("notes", ownerId);
  if (filesChanged) await deps.cache.invalidate("files", ownerId);
  return { affected };
}
