// The owner's files: every query names the owner, so another user's id is simply not found.
import { Op, type FileRow, type WhereOptions } from "@notebox/db";
import type { CoreDeps } from "../deps";
import { AppError } from "../errors";
import { decodeKeyCursor, encodeCursor, keysetAfter, likeContains, type Page } from "../pagination";
import { cleanFileName } from "./names";
import { toFileRecord, type FileRecord } from "./shape";

const fileNotFound = () => new AppError("NOT_FOUND", "No such file.");

export async function findOwnFile(deps: CoreDeps, ownerId: string, id: string): Promise<FileRow> {
  const file = await deps.db.models.File.findOne({ where: { id, ownerId } });
  if (!file) throw fileNotFound();
  return file;
}

/** Newest first, optionally only names containing `q`. */
async function readFiles({
  deps,
  ownerId,
  cursor,
  limit = 50,
  q,
}: {
  deps: CoreDeps;
  ownerId: string;
  cursor?: string | null;
  limit?: number;
  q?: string;
}): Promise<Page<FileRecord>> {
  const conditions: WhereOptions<FileRow>[] = [{ ownerId }];
  const term = q?.trim();
  if (term) conditions.push(likeContains(deps.db.sequelize, "name", term));
  const after = decodeKeyCursor(cursor);
  if (after) conditions.push(keysetAfter("createdAt", new Date(after.v), after.id, true));
  const rows = await deps.db.models.File.findAll({
    where: { [Op.and]: conditions },
    order: [
      ["createdAt", "DESC"],
      ["id", "DESC"],
    ],
    limit: limit + 1,
  });
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(toFileRecord),
    nextCursor: rows.length > limit && last ? encodeCursor({ v: last.createdAt.toISOString(), id: last.id }) : null,
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
  return toFileRecord(await findOwnFile(deps, ownerId, id));
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

/** Removes the row, then the bytes; if removing the bytes fails the orphan sweeper gets them. */
export async function deleteFile({
  deps,
  ownerId,
  id,
}: {
  deps: CoreDeps;
  ownerId: string;
  id: string;
}): Promise<void> {
  const file = await findOwnFile(deps, ownerId, id);
  await file.destroy();
  await deps.cache.invalidate("files", ownerId);
  try {
    await deps.storage.delete(file.storageKey);
  } catch (error) {
    deps.logger.warn({ err: error, key: file.storageKey }, "stored bytes not removed; the sweeper will retry");
  }
}

/** A page of the owner's files, from the read cache when none of their files changed since (see listNotes). */
export function listFiles(params: Parameters<typeof readFiles>[0]): ReturnType<typeof readFiles> {
  const { deps, ownerId } = params;
  return deps.cache.remember(
    "files",
    ownerId,
    ["list", { q: params.q ?? null, cursor: params.cursor ?? null, limit: params.limit ?? null }],
    () => readFiles(params),
  );
}
