// What an administrator's delete leaves for later: the account's notes and files, removed in
// small batches so that other people's writes wait for one batch at most, never for the whole
// account (200,000 notes in one cascade held SQLite's writer, and others' saves, for seconds).
// The account itself is hidden and disabled, and its sessions and keys gone, before this starts;
// an interrupted deletion is finished by the sweeper at the next start or hour.
import { Op } from "@notebox/db";
import type { CoreDeps } from "../deps";

/** Rows removed per statement: about 25 ms of SQLite's writer for notes with their search index. */
const BATCH = 1_000;

/** Removes what is left of an account whose deletion has started, then the account itself. */
export async function finishAccountDeletion({
  deps,
  userId,
}: {
  deps: Pick<CoreDeps, "db" | "storage" | "logger">;
  userId: string;
}) {
  const { Note, File, User } = deps.db.models;
  let notes = 0;
  for (;;) {
    const ids = (await Note.findAll({ attributes: ["id"], where: { ownerId: userId }, limit: BATCH, raw: true })).map(
      (n) => n.id,
    );
    if (ids.length === 0) break;
    notes += await Note.destroy({ where: { id: ids } });
  }
  let files = 0;
  let unremoved = 0;
  for (;;) {
    const rows = await File.findAll({
      attributes: ["id", "storageKey"],
      where: { ownerId: userId },
      limit: BATCH / 2,
      raw: true,
    });
    if (rows.length === 0) break;
    // The rows go first: bytes without a row are an orphan the sweeper removes, a row without bytes a broken file.
    files += await File.destroy({ where: { id: rows.map((r) => r.id) } });
    const results = await Promise.allSettled(rows.map((r) => deps.storage.delete(r.storageKey)));
    unremoved += results.filter((r) => r.status === "rejected").length;
  }
  await User.destroy({ where: { id: userId, deletionStartedAt: { [Op.ne]: null } } });
  await deps.storage.removeEmptyFolder(userId).catch(() => undefined);
  if (unremoved)
    deps.logger.warn({ userId, unremoved }, "some stored bytes of a deleted user remain; the sweeper will remove them");
  return { notes, files };
}

/** Finishes every deletion that was started and not finished (a restart, a crash, another instance's). */
export async function finishAccountDeletions({ deps }: { deps: Pick<CoreDeps, "db" | "storage" | "logger"> }) {
  const pending = await deps.db.models.User.findAll({
    attributes: ["id"],
    where: { deletionStartedAt: { [Op.ne]: null } },
    raw: true,
  });
  for (const { id } of pending) await finishAccountDeletion({ deps, userId: id });
  return pending.length;
}
