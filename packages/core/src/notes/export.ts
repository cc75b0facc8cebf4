// A person's notes as a download (.xlsx, .csv or .json), streamed: rows are read in keyset batches
// and written as they arrive, so memory stays flat however many notes there are.
import { BULK_NOTES_MAX, Op, rowDate, tagNamesOf, type NoteRow, type WhereOptions } from "@notebox/db";
import type { CoreDeps } from "../deps";
import { AppError } from "../errors";
import { attachmentsOf } from "../files/attachments";
import { csvChunks, jsonChunks, xlsxChunks, type ExportedNote } from "./export-writers";

export const EXPORT_FORMATS = ["xlsx", "csv", "json"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface NotesExport {
  /** The file's bytes, produced only as fast as the reader takes them. */
  stream: ReadableStream<Uint8Array>;
  contentType: string;
  fileName: string;
}

const EXPORT_BATCH_SIZE = 1000;
/**
 * Rows per keyset query for .xlsx. A batch of 1,000, read ahead while the previous one is written,
 * lives through two young-generation collections, so V8 promotes it, and the old generation grew
 * by about 140 MB per 100,000 notes before a full collection: next to the 150 MB the export may
 * use. Batches of 250 die young (about 40 MB) for the same CPU time. CSV and JSON keep 1,000:
 * their growth is the same but has no target, and for them the extra queries cost about a tenth
 * more CPU (`node bench/export.mjs`; "Excel export" in the README).
 */
const XLSX_BATCH_SIZE = 250;

const contentTypes: Record<ExportFormat, string> = {
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  csv: "text/csv; charset=utf-8",
  json: "application/json; charset=utf-8",
};

export function isExportFormat(value: string): value is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(value);
}

/**
 * The owner's notes, newest edit first. Trash is excluded: the export is what the person sees in
 * their list. The first batch is read before this resolves, so a database that is down fails the
 * request cleanly instead of cutting a download short.
 *
 * It is not a snapshot: each batch is its own short query, so a stalled download never pins a
 * database connection. A note edited while its export runs moves ahead of the cursor and is
 * left out of that file.
 *
 * Each export counts against the person's export limit (429 with Retry-After past it).
 */
export async function exportNotes({
  deps,
  ownerId,
  format,
  ids,
  now = new Date(),
  batchSize = format === "xlsx" ? XLSX_BATCH_SIZE : EXPORT_BATCH_SIZE,
}: {
  deps: CoreDeps;
  ownerId: string;
  format: ExportFormat;
  /** Only these of the owner's notes (a selection, at most BULK_NOTES_MAX); all when absent. */
  ids?: string[];
  now?: Date;
  batchSize?: number;
}): Promise<NotesExport> {
  if (ids && (ids.length === 0 || ids.length > BULK_NOTES_MAX)) {
    throw AppError.field("ids", `Export between 1 and ${BULK_NOTES_MAX} selected notes.`);
  }
  await deps.limits.consume("exportsPerUser", ownerId);
  const batches = await primed(noteBatches(deps, ownerId, batchSize, ids, format === "json"));
  const chunks =
    format === "csv" ? csvChunks(batches) : format === "json" ? jsonChunks(batches) : xlsxChunks(batches, now);
  const stream = byteStream(chunks, (error) =>
    deps.logger.error({ err: error, format }, "notes export failed part-way; the download was cut off"),
  );
  return {
    stream,
    contentType: contentTypes[format],
    fileName: `notebox-notes-${now.toISOString().slice(0, 10)}.${format}`,
  };
}

/**
 * Keyset pages over (updated_at, id), both descending, on the owner's list index. The next page
 * is requested while the current one is being written, so the database and the encoder overlap.
 */
async function* noteBatches(
  deps: CoreDeps,
  ownerId: string,
  batchSize: number,
  ids?: string[],
  withAttachments = false,
): AsyncGenerator<ExportedNote[]> {
  const fetch = async (after: ExportedNote | null): Promise<ExportedNote[]> => {
    const where: WhereOptions<NoteRow> = { ownerId, deletedAt: null, ...(ids ? { id: { [Op.in]: ids } } : {}) };
    if (after) {
      Object.assign(where, {
        [Op.or]: [
          { updatedAt: { [Op.lt]: after.updatedAt } },
          { updatedAt: after.updatedAt, id: { [Op.lt]: after.id } },
        ],
      });
    }
    const rows = await deps.db.models.Note.findAll({
      attributes: ["id", "title", "description", "createdAt", "updatedAt", "tags"],
      where,
      order: [
        ["updatedAt", "DESC"],
        ["id", "DESC"],
      ],
      limit: batchSize,
      // Plain rows: building 100,000 model instances costs more than writing the file.
      raw: true,
    });
    const attachments = withAttachments
      ? await attachmentsOf(
          deps,
          rows.map((row) => row.id),
        )
      : null;
    return rows.map((row) => ({
      id: row.id,
      title: row.title,
      description: row.description,
      createdAt: rowDate(row.createdAt),
      updatedAt: rowDate(row.updatedAt),
      tags: tagNamesOf(row),
      ...(attachments ? { attachments: attachments.get(row.id) ?? [] } : {}),
    }));
  };
  let next: Promise<ExportedNote[]> | null = fetch(null);
  while (next) {
    const rows: ExportedNote[] = await next;
    next = rows.length === batchSize ? fetch(rows[rows.length - 1]!) : null;
    // If the reader goes away first, nobody awaits the page being read ahead.
    if (next) void next.catch(() => undefined);
    if (rows.length) yield rows;
  }
}

/** Starts `source` now (its first step runs before this resolves) and replays that step. */
async function primed<T>(source: AsyncGenerator<T>): Promise<AsyncGenerator<T>> {
  const first = await source.next();
  return (async function* () {
    if (first.done) return;
    yield first.value;
    yield* source;
  })();
}

/**
 * A pull stream: the next chunk is made only when the reader asks for one, which is what carries
 * a slow client's backpressure all the way back to the database reads.
 */
function byteStream(chunks: AsyncGenerator<string | Uint8Array, void>, onError: (error: unknown) => void) {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          for (;;) {
            const { value, done } = await chunks.next();
            if (done) return controller.close();
            const bytes = typeof value === "string" ? encoder.encode(value) : value;
            if (bytes.byteLength === 0) continue;
            return controller.enqueue(bytes);
          }
        } catch (error) {
          onError(error);
          controller.error(error);
        }
      },
      async cancel() {
        await chunks.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}
