import { rowDate, rowDateOrNull, type FileRow } from "@notebox/db";

export interface FileRecord {
  id: string;
  name: string;
  size: number;
  contentType: string;
  sha256: string;
  /** The note it was added to, or null for a file of the Files page alone. */
  noteId: string | null;
  /** When it went to the trash; null while it is in the list. */
  deletedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What a file's answer is made of: a model row, or a plain row read by the hot paths. */
export type FileFields = Pick<
  FileRow,
  "id" | "name" | "size" | "contentType" | "sha256" | "noteId" | "deletedAt" | "createdAt" | "updatedAt"
>;

/** A plain row of `FILE_COLUMNS`. */
export interface FilePlainRow {
  id: string;
  name: string;
  size: number | string;
  content_type: string;
  sha256: string;
  note_id: string | null;
  deleted_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

export const FILE_COLUMNS = "id, name, size, content_type, sha256, note_id, deleted_at, created_at, updated_at";

export function fromPlainRow(row: FilePlainRow): FileFields {
  return {
    id: row.id,
    name: row.name,
    size: Number(row.size),
    contentType: row.content_type,
    sha256: row.sha256,
    noteId: row.note_id,
    deletedAt: rowDateOrNull(row.deleted_at),
    createdAt: rowDate(row.created_at),
    updatedAt: rowDate(row.updated_at),
  };
}

export function toFileRecord(row: FileFields): FileRecord {
  return {
    id: row.id,
    name: row.name,
    size: Number(row.size),
    contentType: row.contentType,
    sha256: row.sha256,
    noteId: row.noteId ?? null,
    deletedAt: row.deletedAt ? row.deletedAt.toISOString() : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
