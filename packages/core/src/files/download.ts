// Opens a stored file for a download: single byte ranges (RFC 9110 §14), ETag from the sha256.
import type { Readable } from "node:stream";
import type { ByteRange } from "@notebox/storage";
import type { CoreDeps } from "../deps";
import { findOwnFile } from "./crud";
import type { FileRow } from "@notebox/db";

export type RangeResult = { kind: "full" } | { kind: "partial"; range: ByteRange } | { kind: "unsatisfiable" };

/** Parses a Range header for a file of `size` bytes. Multiple ranges are served whole. */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return { kind: "full" };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return { kind: "full" };
  let start: number;
  let end: number;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0) return { kind: "unsatisfiable" };
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
    if (match[2] !== "" && Number(match[2]) < start) return { kind: "full" };
  }
  if (start >= size || size === 0) return { kind: "unsatisfiable" };
  return { kind: "partial", range: { start, end } };
}

export interface OpenedFile {
  file: FileRow;
  range: RangeResult;
  /** Absent for an unsatisfiable range or a HEAD request. */
  body?: Readable;
}

export async function openFile({
  deps,
  ownerId,
  id,
  rangeHeader,
  withBody = true,
}: {
  deps: CoreDeps;
  ownerId: string;
  id: string;
  rangeHeader?: string;
  withBody?: boolean;
}): Promise<OpenedFile> {
  const file = await findOwnFile(deps, ownerId, id);
  const range = parseRange(rangeHeader, Number(file.size));
  if (range.kind === "unsatisfiable" || !withBody || Number(file.size) === 0) return { file, range };
  const body = await deps.storage.get(file.storageKey, range.kind === "partial" ? range.range : undefined);
  return { file, range, body };
}
