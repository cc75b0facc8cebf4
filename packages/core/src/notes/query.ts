// What a person typed into the search box: words, "quoted phrases" and filters (tag:work,
// -tag:old, is:pinned, has:task, before:2026-01-31, after:2026-01-01, in:title). Nothing typed is
// an error: a filter this does not understand, or with a bad value, is searched for as words.

export interface ParsedQuery {
  /** The free text: words and the words of the phrases, for the full-text engine. */
  text: string;
  /** Phrases of two or more words, each matched as typed. */
  phrases: string[];
  tags: string[];
  notTags: string[];
  pinned?: boolean;
  openTasks?: boolean;
  /** Last edited before the start of this UTC day / from the start of this UTC day on. */
  before?: Date;
  after?: Date;
  inTitle: boolean;
}

/** A filter (with an optional `-`), a quoted phrase, or any other run of non-space characters. */
const TOKEN = /(-?)([a-z]+):(?:"([^"]*)"|(\S+))|"([^"]*)"|(\S+)/gi;

/** 2026-01-31, a real day, as the start of that UTC day. */
function day(value: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return undefined;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.toISOString().startsWith(value) ? date : undefined;
}

/** Applies one filter to `query`; false when it is not a filter this understands. */
function applyFilter(query: ParsedQuery, negated: boolean, key: string, value: string): boolean {
  const name = key.toLowerCase();
  const v = value.toLowerCase();
  if (name === "tag" && value.trim() !== "") {
    (negated ? query.notTags : query.tags).push(value.trim());
    return true;
  }
  if (name === "is" && v === "pinned") query.pinned = !negated;
  else if (name === "has" && (v === "task" || v === "tasks")) query.openTasks = !negated;
  else if (name === "in" && v === "title" && !negated) query.inTitle = true;
  else if ((name === "before" || name === "after") && !negated && day(value)) query[name] = day(value);
  else return false;
  return true;
}

export function parseQuery(q: string): ParsedQuery {
  const query: ParsedQuery = { text: "", phrases: [], tags: [], notTags: [], inTitle: false };
  const words: string[] = [];
  for (const m of q.matchAll(TOKEN)) {
    const [whole, minus, key, quoted, bare, phrase, word] = m;
    if (key !== undefined) {
      if (!applyFilter(query, minus === "-", key, quoted ?? bare ?? "")) words.push(quoted ?? whole);
    } else if (phrase !== undefined) {
      const inner = phrase.trim().replace(/\s+/g, " ");
      if (inner.includes(" ")) query.phrases.push(inner);
      words.push(inner);
    } else if (word !== undefined) {
      words.push(word.replace(/"/g, " "));
    }
  }
  query.text = words.join(" ");
  return query;
}

/** Whether anything besides words narrows the search. */
export function hasFilters(query: ParsedQuery): boolean {
  return (
    query.tags.length > 0 ||
    query.notTags.length > 0 ||
    query.phrases.length > 0 ||
    query.pinned !== undefined ||
    query.openTasks !== undefined ||
    query.before !== undefined ||
    query.after !== undefined
  );
}
