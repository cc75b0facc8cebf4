// Removes what a crash can leave behind: temporaries of interrupted writes, and stored objects
// that no row points to (a crash between storing the bytes and committing the row).
import { pastGrace } from "@notebox/storage";
import type { CoreDeps } from "../deps";

/** Younger objects may belong to an upload whose row is about to be committed. */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;

export async function sweepStorage({
  deps,
  graceMs = ORPHAN_GRACE_MS,
}: {
  deps: Pick<CoreDeps, "db" | "storage">;
  graceMs?: number;
}) {
  // Some S3-compatible services lack the multipart-listing API: orphans are still swept.
  const temporaries = await deps.storage.sweepTemporaries(graceMs).catch(() => 0);
  let orphans = 0;
  let batch: { key: string }[] = [];
  const flush = async () => {
    const keys = batch.map((o) => o.key);
    batch = [];
    const known = new Set(
      (await deps.db.models.File.findAll({ attributes: ["storageKey"], where: { storageKey: keys }, raw: true })).map(
        (r) => r.storageKey,
      ),
    );
    for (const key of keys) {
      if (!known.has(key)) {
        await deps.storage.delete(key);
        orphans++;
      }
    }
  };
  for await (const object of deps.storage.list()) {
    if (!pastGrace(object.lastModified.getTime(), graceMs)) continue;
    batch.push(object);
    if (batch.length >= 500) await flush();
  }
  if (batch.length) await flush();
  return { temporaries, orphans };
}
