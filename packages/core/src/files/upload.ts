// Streams a multipart upload straight into storage: busboy parses the raw request, each file
// part flows through a meter (size limit, quota, sha256, the first bytes for type detection)
// into the storage driver. Rows are committed only after every byte of the request is stored;
// any failure removes what this request stored, so nothing is left half-done.
import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { newId, type FileRow } from "@notebox/db";
import busboy from "busboy";
import type { CoreDeps } from "../deps";
import { AppError } from "../errors";
import { detectContentType, SNIFF_BYTES } from "./detect";
import { cleanFileName } from "./names";
import { toFileRecord, type FileRecord } from "./shape";
import { quotaOf } from "../admin/settings";
import { usedBytes } from "./usage";
import { assertLiveNote } from "./attachments";

const MAX_FILES_PER_REQUEST = 50;

class LimitExceeded extends Error {
  constructor(readonly which: "file" | "quota") {
    super(which);
  }
}

/** Counts, hashes and keeps the head of the bytes passing through; fails past `limit`. */
class Meter extends Transform {
  /** Not `size`: the S3 upload helper would take a `size` property for the body's length. */
  bytes = 0;
  private readonly hash = createHash("sha256");
  private readonly head: Buffer[] = [];
  private headLength = 0;

  constructor(
    private readonly limit: number,
    private readonly which: () => "file" | "quota",
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) return done(new LimitExceeded(this.which()));
    this.hash.update(chunk);
    if (this.headLength < SNIFF_BYTES) {
      this.head.push(chunk.subarray(0, SNIFF_BYTES - this.headLength));
      this.headLength += Math.min(chunk.length, SNIFF_BYTES - this.headLength);
    }
    done(null, chunk);
  }

  digest() {
    return this.hash.digest("hex");
  }

  headBytes() {
    return Buffer.concat(this.head);
  }
}

interface Stored {
  id: string;
  storageKey: string;
  name: string;
  size: number;
  sha256: string;
  contentType: string;
}

export async function receiveUploads({
  deps,
  ownerId,
  headers,
  body,
  noteId,
}: {
  deps: CoreDeps;
  ownerId: string;
  headers: IncomingHttpHeaders;
  body: Readable;
  /** Adds the files to this note of the owner's (in the list, else 404 and nothing is kept). */
  noteId?: string;
}): Promise<FileRecord[]> {
  const { maxUploadBytes } = deps.config;
  if (noteId !== undefined) await assertLiveNote(deps, ownerId, noteId);
  if (!headers["content-type"]?.toLowerCase().startsWith("multipart/form-data")) {
    throw AppError.field("file", "Send the files as multipart/form-data with one or more `file` parts.");
  }
  const declared = Number(headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxUploadBytes * MAX_FILES_PER_REQUEST) {
    throw new AppError("PAYLOAD_TOO_LARGE", "The upload is too large.", { reason: "file_too_large" });
  }

  let remainingQuota = (await quotaOf(deps, ownerId)) - (await usedBytes(deps, ownerId));
  const stored: Stored[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let parser: busboy.Busboy;
      try {
        parser = busboy({
          headers,
          defParamCharset: "utf8",
          limits: { files: MAX_FILES_PER_REQUEST, fields: 20, parts: MAX_FILES_PER_REQUEST + 20 },
        });
      } catch {
        reject(AppError.field("file", "The multipart body could not be read."));
        return;
      }
      // File parts are handled one after another: busboy emits the next only when this one is read.
      let chain = Promise.resolve();
      let failed = false;
      let current: Meter | null = null;
      const fail = (error: Error) => {
        if (failed) return;
        failed = true;
        // Ends the write in progress too, so its temporary is removed and its descriptor closed.
        current?.destroy(error);
        body.unpipe(parser);
        body.resume(); // drain what is left so the answer can be sent
        reject(error);
      };

      parser.on("file", (field, stream, info) => {
        // Listen at once: the part can fail (a body cut short) before its turn in the chain.
        stream.on("error", (error) =>
          fail(
            error instanceof LimitExceeded || isOutOfSpace(error)
              ? error
              : AppError.field("file", "The multipart body could not be read."),
          ),
        );
        if (field !== "file" || failed) {
          stream.resume();
          return;
        }
        chain = chain.then(async () => {
          if (failed) {
            stream.resume();
            return;
          }
          const limit = Math.min(maxUploadBytes, remainingQuota);
          const meter = new Meter(limit, () => (maxUploadBytes <= remainingQuota ? "file" : "quota"));
          const id = newId();
          const storageKey = `${ownerId}/${id}`;
          current = meter;
          // pipeline owns the errors of both streams from the first byte: a broken part or a limit
          // hit before the storage driver starts reading destroys the meter, which fails put().
          pipeline(stream, meter).catch(() => {});
          try {
            await deps.storage.put(storageKey, meter);
          } catch (error) {
            stream.resume();
            throw error;
          } finally {
            current = null;
          }
          remainingQuota -= meter.bytes;
          stored.push({
            id,
            storageKey,
            name: cleanFileName(info.filename),
            size: meter.bytes,
            sha256: meter.digest(),
            contentType: await detectContentType(meter.headBytes()),
          });
        });
        chain.catch((error: unknown) => fail(error instanceof Error ? error : new Error(String(error))));
      });
      parser.on("filesLimit", () =>
        fail(AppError.field("file", `Send at most ${MAX_FILES_PER_REQUEST} files at once.`)),
      );
      parser.on("error", () => fail(AppError.field("file", "The multipart body could not be read.")));
      parser.on("close", () => {
        chain.then(
          () => (failed ? undefined : resolve()),
          (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
        );
      });
      body.on("error", fail);
      body.on("aborted", () => fail(AppError.field("file", "The upload was interrupted.")));
      body.on("close", () => {
        if ((body as { complete?: boolean }).complete === false)
          fail(AppError.field("file", "The upload was interrupted."));
      });
      body.pipe(parser);
    });

    if (stored.length === 0) throw AppError.field("file", "Choose at least one file to upload.");
    return await commitRows(deps, ownerId, stored, noteId ?? null);
  } catch (error) {
    await Promise.allSettled(stored.map((s) => deps.storage.delete(s.storageKey)));
    if (error instanceof LimitExceeded) throw tooLarge(error.which, deps);
    if (isOutOfSpace(error)) {
      deps.logger.error({ err: error }, "file storage is out of space; upload refused");
      throw new AppError(
        "SERVICE_UNAVAILABLE",
        "The server has run out of storage space. Try again later or tell the administrator.",
        {
          reason: "storage_full",
        },
      );
    }
    throw error;
  }
}

/** The disk (or the user's disk quota on it) is full: the server's problem, not the upload's. */
const isOutOfSpace = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
};

function tooLarge(which: "file" | "quota", deps: CoreDeps): AppError {
  if (which === "quota") {
    return new AppError(
      "PAYLOAD_TOO_LARGE",
      "Not enough storage space left for this upload. Delete some files and empty them from the trash first.",
      {
        reason: "quota_exceeded",
      },
    );
  }
  const mb = Math.floor(deps.config.maxUploadBytes / (1024 * 1024));
  return new AppError("PAYLOAD_TOO_LARGE", `Each file can be at most ${mb} MB.`, { reason: "file_too_large" });
}

/**
 * Inserts the rows in one transaction after re-checking the quota under the owner's row lock, and
 * the note: one trashed or purged while the bytes streamed gets no file (404; the bytes are removed).
 */
async function commitRows(
  deps: CoreDeps,
  ownerId: string,
  stored: Stored[],
  noteId: string | null,
): Promise<FileRecord[]> {
  const { File, User } = deps.db.models;
  const rows = await deps.db.transaction(async (transaction) => {
    await User.findByPk(ownerId, { lock: transaction.LOCK.UPDATE, transaction });
    if (noteId !== null) await assertLiveNote(deps, ownerId, noteId, transaction);
    const used = await usedBytes(deps, ownerId, transaction);
    const adding = stored.reduce((sum, s) => sum + s.size, 0);
    if (used + adding > (await quotaOf(deps, ownerId, transaction))) throw new LimitExceeded("quota");
    const now = new Date();
    return File.bulkCreate(
      stored.map((s) => ({ ...s, ownerId, noteId, createdAt: now, updatedAt: now })),
      { transaction },
    );
  });
  await deps.cache.invalidate("files", ownerId);
  return rows.map((row: FileRow) => toFileRecord(row));
}
