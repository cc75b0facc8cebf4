import type { FileRow } from "@notebox/db";

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

export function toFileRecord(row: FileRow): FileRecord {
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
