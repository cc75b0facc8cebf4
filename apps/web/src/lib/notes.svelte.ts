// Notes as the API returns them, the limits the server enforces (checked here first so a form can
// say what is wrong before sending), and a counter pages watch to refetch after a change elsewhere.
import type { RouterOutputs } from "@notebox/api";
import { NOTE_TEXT_MAX_BYTES, NOTE_TITLE_MAX, utf8Bytes } from "@notebox/api/limits";

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

/** The same rules as the API's, so most mistakes are caught without a round trip. */
export function checkNote(title: string, text: string): { title: string | null; description: string | null } {
  const trimmed = title.trim();
  return {
    title: !trimmed
      ? "Give the note a title."
      : trimmed.length > NOTE_TITLE_MAX
        ? `Keep the title to ${NOTE_TITLE_MAX} characters.`
        : null,
    description: utf8Bytes(text) > NOTE_TEXT_MAX_BYTES ? `Keep the note under ${NOTE_TEXT_MAX_BYTES / 1024} KB.` : null,
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
