import type { NoteRow } from "@notebox/db";

/** A note as the API returns it. Dates are ISO strings (no transformer on the wire). */
export interface Note {
  id: string;
  title: string;
  description: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

/** A row of a list: the text is cut to an excerpt so a page of notes stays small. */
export interface NoteSummary extends Omit<Note, "description"> {
  excerpt: string;
}

export const EXCERPT_LENGTH = 240;

export function toNote(row: NoteRow): Note {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    deletedAt: row.deletedAt?.toISOString() ?? null,
  };
}

export function excerptOf(text: string, length = EXCERPT_LENGTH): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= length ? flat : `${flat.slice(0, length - 1).trimEnd()}…`;
}

export function toSummary(row: NoteRow): NoteSummary {
  const { description, ...rest } = toNote(row);
  return { ...rest, excerpt: excerptOf(description) };
}
