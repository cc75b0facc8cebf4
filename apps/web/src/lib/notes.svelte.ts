// Notes as the API returns them, the limits the server enforces (checked here first so a form can
// say what is wrong before sending), and a counter pages watch to refetch after a change elsewhere.
import type { RouterOutputs } from "@notebox/api";
import { NOTE_TEXT_MAX_BYTES, NOTE_TITLE_MAX, utf8Bytes } from "@notebox/api/limits";
import { trpc } from "$lib/trpc";

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

/** A title's length as the API counts it against NOTE_TITLE_MAX: trimmed, in UTF-16 code units. */
export function titleLength(title: string): number {
  return title.trim().length;
}

/** The same rules as the API's, so most mistakes are caught without a round trip. */
export function checkNote(title: string, text: string): { title: string | null; description: string | null } {
  return {
    title: !title.trim()
      ? "Give the note a title."
      : titleLength(title) > NOTE_TITLE_MAX
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

export type TagCount = RouterOutputs["notes"]["tags"]["list"][number];

/** The person's tags with how many notes carry each, for the tags panel and tag autocomplete. */
class TagList {
  items = $state<TagCount[]>([]);
  loaded = $state(false);
  #latest = 0;

  /** Fetches the tags again; a failure leaves the last list (autocomplete is a convenience). */
  async load(): Promise<void> {
    const request = ++this.#latest;
    try {
      const items = await trpc.notes.tags.list.query();
      if (request !== this.#latest) return;
      this.items = items;
      this.loaded = true;
    } catch {
      // Shown again on the next change; the panel offers a retry through the list's own errors.
    }
  }

  /** Tags whose name starts with `prefix` (no case), then those containing it; at most `max`. */
  matching(prefix: string, max = 8): TagCount[] {
    const wanted = fold(prefix);
    const starts = this.items.filter((tag) => fold(tag.name).startsWith(wanted));
    const contains = wanted
      ? this.items.filter((tag) => !fold(tag.name).startsWith(wanted) && fold(tag.name).includes(wanted))
      : [];
    return [...starts, ...contains].slice(0, max);
  }
}

export const tagList = new TagList();

/** Compared as the server compares tags: no case, no accents. */
export function fold(text: string): string {
  return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase().trim();
}

// ---- The search box's filters ----

/** The filter for one tag as typed in the search box: quoted when the name has spaces. */
export function tagFilter(name: string, negated = false): string {
  return `${negated ? "-" : ""}tag:${/[\s"]/.test(name) ? `"${name.replace(/"/g, "")}"` : name}`;
}

/** A filter, a quoted phrase or a word: as the server splits a query. */
const TOKEN = /-?[a-z]+:(?:"[^"]*"|\S+)|"[^"]*"|\S+/gi;

function tokens(query: string): string[] {
  return query.match(TOKEN) ?? [];
}

/** Whether `query` holds `token` (e.g. "is:pinned") as a whole token, case aside. */
export function hasToken(query: string, token: string): boolean {
  const wanted = token.toLowerCase();
  return tokens(query).some((t) => t.toLowerCase() === wanted);
}

/** `query` with `token` added at the end, or taken out when it was there. */
export function toggleToken(query: string, token: string): string {
  if (hasToken(query, token)) {
    const wanted = token.toLowerCase();
    return tokens(query)
      .filter((t) => t.toLowerCase() !== wanted)
      .join(" ");
  }
  const trimmed = query.trim();
  return trimmed ? `${trimmed} ${token}` : token;
}

/** The one tag a query filters by, when it is nothing but `tag:name`. */
export function onlyTag(query: string): string | null {
  const all = tokens(query.trim());
  if (all.length !== 1) return null;
  const m = /^tag:(?:"([^"]*)"|(\S+))$/i.exec(all[0]!);
  return m ? (m[1] ?? m[2] ?? "").trim() || null : null;
}

/** `query` with every `tag:from` (or `-tag:from`) turned into `tag:to`, after a rename. */
export function renameTagIn(query: string, from: string, to: string | null): string {
  const key = fold(from);
  return tokens(query)
    .flatMap((t) => {
      const m = /^(-?)tag:(?:"([^"]*)"|(\S+))$/i.exec(t);
      if (!m || fold(m[2] ?? m[3] ?? "") !== key) return [t];
      return to === null ? [] : [tagFilter(to, m[1] === "-")];
    })
    .join(" ");
}

/** The `tag:` filter being typed where the caret is: where it starts, and the name so far. */
export interface TagInProgress {
  /** Where the filter starts in the query. */
  start: number;
  /** Where it ends: the caret, or past the rest of an unquoted name after it. */
  end: number;
  negated: boolean;
  partial: string;
}

export function tagBeingTyped(query: string, caret: number): TagInProgress | null {
  const before = query.slice(0, caret);
  const m = /(^|\s)(-?)tag:("[^"]*|[^\s"]*)$/i.exec(before);
  if (!m) return null;
  const start = m.index + m[1]!.length;
  const raw = m[3]!;
  const quoted = raw.startsWith('"');
  const rest = quoted ? "" : (/^\S*/.exec(query.slice(caret))?.[0] ?? "");
  return { start, end: caret + rest.length, negated: m[2] === "-", partial: (quoted ? raw.slice(1) : raw) + rest };
}

/** `query` with the filter being typed completed to `name`, and the caret after it. */
export function completeTag(query: string, typing: TagInProgress, name: string): { query: string; caret: number } {
  const filter = `${tagFilter(name, typing.negated)} `;
  const after = query.slice(typing.end).replace(/^\s+/, "");
  return { query: query.slice(0, typing.start) + filter + after, caret: typing.start + filter.length };
}
