// Notes as the API returns them, the limits the server enforces (checked here first so a form can
// say what is wrong before sending), and a counter pages watch to refetch after a change elsewhere.
import type { RouterOutputs } from "@notebox/api";

export type Note = RouterOutputs["notes"]["get"];
export type NoteSummary = RouterOutputs["notes"]["list"]["items"][number];
export type SearchHit = RouterOutputs["notes"]["search"]["items"][number];
export type Segment = SearchHit["snippet"][number];

export type NoteSort = "updated" | "created" | "title";

export const SORTS: readonly { value: NoteSort; label: string }[] = [
  { value: "updated", label: "Last edited" },
  { value: "created", label: "Created" },
  { value: "title", label: "Title" },
];

export function parseSort(value: string | null): NoteSort {
  return SORTS.find((s) => s.value === value)?.value ?? "updated";
}

export const TITLE_MAX_LENGTH = 200;
export const TEXT_MAX_BYTES = 100 * 1024;

const encoder = new TextEncoder();

/** The size the server counts: UTF-8 bytes, not characters. */
export function byteLength(text: string): number {
  return encoder.encode(text).length;
}

/** The same rules as the API's, so most mistakes are caught without a round trip. */
export function checkNote(title: string, text: string): { title: string | null; description: string | null } {
  const trimmed = title.trim();
  return {
    title: !trimmed
      ? "Give the note a title."
      : trimmed.length > TITLE_MAX_LENGTH
        ? `Keep the title to ${TITLE_MAX_LENGTH} characters.`
        : null,
    description: byteLength(text) > TEXT_MAX_BYTES ? "Keep the note under 100 KB." : null,
  };
}

class NotesChanged {
  /** Bumped when notes changed outside the page showing them (a deleted note restored by Undo). */
  revision = $state(0);

  bump(): void {
    this.revision++;
  }
}

export const notesChanged = new NotesChanged();
