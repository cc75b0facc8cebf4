import { tagNamesOf, type NoteRow } from "@notebox/db";

/** A note as the API returns it. Dates are ISO strings (no transformer on the wire). */
export interface Note {
  id: string;
  title: string;
  description: string;
  tags: string[];
  pinned: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

/** A row of a list: the text is replaced by its plain-text excerpt so a page of notes stays small. */
export interface NoteSummary extends Omit<Note, "description"> {
  excerpt: string;
}

function common(row: NoteRow) {
  return {
    id: row.id,
    title: row.title,
    tags: tagNamesOf(row),
    pinned: Boolean(row.pinned),
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    deletedAt: row.deletedAt?.toISOString() ?? null,
  };
}

export function toNote(row: NoteRow): Note {
  return { ...common(row), description: row.description };
}

export function toSummary(row: NoteRow): NoteSummary {
  return { ...common(row), excerpt: row.excerpt };
}
