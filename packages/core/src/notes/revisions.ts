// Revision history. Every saved change of a note's title or text keeps the state it replaced,
// in the edit's own transaction; autosaves within 10 minutes of the last kept revision add none
// (the state before the burst is kept already), and a save that changes nothing keeps nothing.
// The hourly sweep thins old history: every revision of the last 7 days, the newest of each day
// for 90 days, the newest of each week after that, and never more than REVISIONS_PER_NOTE_MAX.
import {
  newId,
  Op,
  runStatement,
  utf8Bytes,
  type NoteRevisionRow,
  type NoteRow,
  type RevisionSource,
  type Transaction,
} from "@notebox/db";
import type { CoreDeps } from "../deps";
import { AppError } from "../errors";
import { decodeCursor, encodeCursor, type Page } from "../pagination";
import { notFound } from "./crud";
import { toNote, type Note } from "./shape";

const DAY = 24 * 60 * 60 * 1000;
export const REVISION_COLLAPSE_MS = 10 * 60 * 1000;
export const REVISIONS_KEEP_ALL_MS = 7 * DAY;
export const REVISIONS_DAILY_MS = 90 * DAY;
export const REVISIONS_PER_NOTE_MAX = 300;
const REVISIONS_PAGE = 50;

export interface RevisionSummary {
  revision: number;
  /** When this state was replaced. */
  createdAt: string;
  title: string;
  bytes: number;
  source: RevisionSource;
}

export interface Revision extends RevisionSummary {
  description: string;
}

const summary = (row: NoteRevisionRow): RevisionSummary => ({
  revision: row.revision,
  createdAt: row.createdAt.toISOString(),
  title: row.title,
  bytes: row.bytes,
  source: row.source,
});

/**
 * Keeps `before` (the note as it is, locked in `transaction`) as a revision when `next` changes
 * its title or text, unless an edit comes within REVISION_COLLAPSE_MS of the last kept one.
 * Returns what the note's own row must record with the change.
 */
export async function keepRevision(
  deps: Pick<CoreDeps, "db">,
  before: Pick<NoteRow, "id" | "title" | "description" | "lastRevision" | "revisedAt">,
  next: { title: string; description: string },
  source: RevisionSource,
  transaction: Transaction,
  now = new Date(),
): Promise<Pick<NoteRow, "lastRevision" | "revisedAt"> | Record<string, never>> {
  if (before.title === next.title && before.description === next.description) return {};
  if (source === "edit" && before.revisedAt && now.getTime() - before.revisedAt.getTime() < REVISION_COLLAPSE_MS)
    return {};
  const revision = before.lastRevision + 1;
  // A plain INSERT: an edit is a hot path (bench/revisions), a model instance costs more than it.
  await runStatement(
    deps.db,
    "INSERT INTO note_revisions (id, note_id, revision, title, description, bytes, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [
      newId(),
      before.id,
      revision,
      before.title,
      before.description,
      utf8Bytes(before.title) + utf8Bytes(before.description),
      source,
      now,
    ],
    transaction,
  );
  return { lastRevision: revision, revisedAt: now };
}

/** The owner's note, in the trash or not: its history stays readable until it is purged. */
async function ownNote(deps: CoreDeps, ownerId: string, id: string): Promise<NoteRow> {
  const note = await deps.db.models.Note.findOne({ where: { id, ownerId }, attributes: ["id", "ownerId"] });
  if (!note) throw notFound();
  return note;
}

const revisionNotFound = () => new AppError("NOT_FOUND", "No such revision of this note.");

const isRevisionCursor = (v: unknown): v is { r: number } =>
  typeof v === "object" && v !== null && Number.isSafeInteger((v as { r?: unknown }).r);

/** Newest first, a page at a time. */
export async function listRevisions({
  deps,
  ownerId,
  id,
  cursor,
}: {
  deps: CoreDeps;
  ownerId: string;
  id: string;
  cursor?: string | null;
}): Promise<Page<RevisionSummary>> {
  await ownNote(deps, ownerId, id);
  const after = decodeCursor(cursor, isRevisionCursor);
  const rows = await deps.db.models.NoteRevision.findAll({
    where: { noteId: id, ...(after ? { revision: { [Op.lt]: after.r } } : {}) },
    attributes: ["revision", "createdAt", "title", "bytes", "source"],
    order: [["revision", "DESC"]],
    limit: REVISIONS_PAGE + 1,
  });
  const items = rows.slice(0, REVISIONS_PAGE).map(summary);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > REVISIONS_PAGE && last ? encodeCursor({ r: last.revision }) : null };
}

export async function getRevision({
  deps,
  ownerId,
  id,
  revision,
}: {
  deps: CoreDeps;
  ownerId: string;
  id: string;
  revision: number;
}): Promise<Revision> {
  await ownNote(deps, ownerId, id);
  const row = await deps.db.models.NoteRevision.findOne({ where: { noteId: id, revision } });
  if (!row) throw revisionNotFound();
  return { ...summary(row), description: row.description };
}

/**
 * Makes an earlier revision the note's current state, as a new version; the state it replaces is
 * kept as a revision of its own. Like an edit, it applies only to the `version` the person read.
 */
export async function restoreRevision({
  deps,
  ownerId,
  id,
  revision,
  version,
}: {
  deps: CoreDeps;
  ownerId: string;
  id: string;
  revision: number;
  version: number;
}): Promise<Note> {
  const { Note, NoteRevision } = deps.db.models;
  const restored = await deps.db.transaction(async (transaction) => {
    const note = await Note.findOne({
      where: { id, ownerId, deletedAt: null },
      transaction,
      lock: transaction.LOCK.UPDATE,
    });
    if (!note) throw notFound();
    const row = await NoteRevision.findOne({ where: { noteId: id, revision }, transaction });
    if (!row) throw revisionNotFound();
    if (note.version !== version) {
      throw new AppError("CONFLICT", "This note was changed elsewhere since you opened it.", {
        reason: "version_conflict",
        fieldErrors: { version: [`The note is now at version ${note.version}.`] },
      });
    }
    const now = new Date();
    const next = { title: row.title, description: row.description };
    const kept = await keepRevision(deps, note, next, "restore", transaction, now);
    await note.update({ ...next, ...kept, version: note.version + 1, updatedAt: now }, { transaction });
    return note;
  });
  await deps.cache.invalidate("notes", ownerId);
  return toNote(restored);
}

/** Which of one note's old revisions the thinning keeps: the newest of each day, then of each week. */
function thinned(rows: { id: string; createdAt: Date }[], now: number): string[] {
  const seen = new Set<string>();
  const drop: string[] = [];
  // Newest first: the first of each bucket met is the one kept.
  for (const row of [...rows].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())) {
    const age = now - row.createdAt.getTime();
    if (age < REVISIONS_KEEP_ALL_MS) continue;
    const bucket =
      age < REVISIONS_DAILY_MS
        ? `d${Math.floor(row.createdAt.getTime() / DAY)}`
        : `w${Math.floor(row.createdAt.getTime() / (7 * DAY))}`;
    if (seen.has(bucket)) drop.push(row.id);
    else seen.add(bucket);
  }
  return drop;
}

/**
 * Where each database's last thinning stopped: a note with old history keeps old revisions after
 * it is thinned, so without this every run would pick the same first `notesPerRun` notes again.
 */
const thinnedUpTo = new WeakMap<object, string>();

/**
 * The hourly thinning of the history (see the top of this file). Returns how many revisions it
 * removed. Works a bounded number of notes per call; the next hour goes on from where it stopped.
 */
export async function thinRevisions({
  deps,
  now = new Date(),
  notesPerRun = 1000,
}: {
  deps: Pick<CoreDeps, "db">;
  now?: Date;
  notesPerRun?: number;
}): Promise<number> {
  const { NoteRevision } = deps.db.models;
  const cutoff = new Date(now.getTime() - REVISIONS_KEEP_ALL_MS);
  const from = thinnedUpTo.get(deps.db) ?? "";
  const aged = await NoteRevision.findAll({
    where: { createdAt: { [Op.lt]: cutoff }, noteId: { [Op.gt]: from } },
    attributes: ["noteId"],
    group: ["noteId"],
    order: [["noteId", "ASC"]],
    limit: notesPerRun,
    raw: true,
  });
  // A short page means the end: the next run starts from the first note again.
  thinnedUpTo.set(deps.db, aged.length < notesPerRun ? "" : (aged[aged.length - 1]?.noteId ?? ""));
  const crowded = await NoteRevision.findAll({
    attributes: ["noteId"],
    group: ["noteId"],
    having: deps.db.sequelize.where(deps.db.sequelize.fn("COUNT", deps.db.sequelize.col("id")), {
      [Op.gt]: REVISIONS_PER_NOTE_MAX,
    }),
    limit: notesPerRun,
    raw: true,
  });
  let removed = 0;
  for (const noteId of new Set([...aged, ...crowded].map((r) => r.noteId))) {
    const rows = await NoteRevision.findAll({
      where: { noteId },
      attributes: ["id", "createdAt"],
      order: [["revision", "DESC"]],
      // Not raw: SQLite hands raw dates back as strings; the model parses them into Dates.
    });
    const drop = new Set(thinned(rows, now.getTime()));
    // Past the cap, the oldest of what is left go too.
    const left = rows.filter((r) => !drop.has(r.id));
    for (const row of left.slice(REVISIONS_PER_NOTE_MAX)) drop.add(row.id);
    const ids = [...drop];
    for (let i = 0; i < ids.length; i += 500)
      removed += await NoteRevision.destroy({ where: { id: ids.slice(i, i + 500) } });
  }
  return removed;
}
