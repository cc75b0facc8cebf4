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

/** What a note's answers are made of: a model row, or a plain row read by the hot paths. */
export type NoteFields = Pick<
  NoteRow,
  "id" | "title" | "tags" | "pinned" | "version" | "createdAt" | "updatedAt" | "deletedAt" | "description" | "excerpt"
>;

function common(row: Omit<NoteFields, "description" | "excerpt">) {
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

export function toNote(row: Omit<NoteFields, "excerpt">): Note {
  return { ...common(row), description: row.description };
}

export function toSummary(row: Omit<NoteFields, "description">): NoteSummary {
  return { ...common(row), excerpt: row.excerpt };
}
