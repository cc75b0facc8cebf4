// Highlighting done in one place for both databases, as segments rather than HTML: the web app
// renders them as text, so a note can never inject markup through its search results.
import { foldedWords, foldText } from "@notebox/db";

export { termsStartingWords } from "@notebox/db";

export interface Segment {
  text: string;
  highlight: boolean;
}

/** The words of a query: letters and digits only, so nothing a person types is query syntax. */
export function searchTerms(query: string, { max = 8, maxLength = 64 } = {}): string[] {
  const words = foldedWords(query);
  return [...new Set(words.map((w) => [...w].slice(0, maxLength).join("")))].slice(0, max);
}

const WORD_CHAR = /[\p{L}\p{N}]/u;

/** One character folded; ASCII, most of any text, without the Unicode round trip. */
function foldChar(c: string): string {
  const code = c.charCodeAt(0);
  if (code >= 128) return foldText(c);
  return code >= 65 && code <= 90 ? String.fromCharCode(code + 32) : c;
}

/** Whether the folded text has a letter or digit just before UTF-16 index `at`. */
function wordCharBefore(folded: string, at: number): boolean {
  if (at === 0) return false;
  const unit = folded.charCodeAt(at - 1);
  const start = unit >= 0xdc00 && unit <= 0xdfff && at >= 2 ? at - 2 : at - 1;
  return WORD_CHAR.test(String.fromCodePoint(folded.codePointAt(start)!));
}

const ASCII = /^[^\u0080-\uffff]*$/;
const ASCII_WORD_CHAR = /[a-z0-9]/;

/**
 * A text as code points: ASCII text (most of any text) is its own string, one unit per point;
 * any other is split into its characters.
 */
interface Points {
  text: string;
  /** The characters, when the text is not ASCII. */
  chars: string[] | null;
  length: number;
}

function pointsOf(text: string): Points {
  if (ASCII.test(text)) return { text, chars: null, length: text.length };
  const chars = [...text];
  return { text, chars, length: chars.length };
}

/**
 * Which code points of the text are in a word that starts with one of `terms` (both compared
 * folded). ASCII text is folded by lowercasing, without the per-character walk.
 */
function matchRanges({ text, chars, length }: Points, terms: string[]): boolean[] {
  const marked = new Array<boolean>(length).fill(false);
  if (!chars) {
    const folded = text.toLowerCase();
    for (const term of terms) {
      for (let at = folded.indexOf(term); at !== -1; at = folded.indexOf(term, at + 1)) {
        if (at > 0 && ASCII_WORD_CHAR.test(folded[at - 1]!)) continue;
        marked.fill(true, at, at + term.length);
      }
    }
    return marked;
  }
  // The folded text, and for each of its UTF-16 units the character it came from.
  let folded = "";
  const origin: number[] = [];
  chars.forEach((c, i) => {
    const f = foldChar(c);
    folded += f;
    for (let k = 0; k < f.length; k++) origin.push(i);
  });
  for (const term of terms) {
    for (let at = folded.indexOf(term); at !== -1; at = folded.indexOf(term, at + 1)) {
      if (wordCharBefore(folded, at)) continue;
      for (let k = at; k < at + term.length; k++) marked[origin[k]!] = true;
    }
  }
  // A character that folds to nothing (a combining accent) belongs to the one before it.
  for (let i = 1, unit = 0; i < chars.length; i++) {
    while (unit < origin.length && origin[unit]! < i) unit++;
    if (origin[unit] !== i) marked[i] = marked[i - 1]!;
  }
  return marked;
}

/** The code points from `from` to `to` as runs, highlighted or not. */
function toSegments({ text, chars }: Points, marked: boolean[], from: number, to: number): Segment[] {
  const segments: Segment[] = [];
  for (let start = from, i = from + 1; i <= to; i++) {
    if (i < to && marked[i] === marked[start]) continue;
    const part = chars ? chars.slice(start, i).join("") : text.slice(start, i);
    segments.push({ text: part, highlight: marked[start]! });
    start = i;
  }
  return segments;
}

export function highlight(text: string, terms: string[]): Segment[] {
  const points = pointsOf(text);
  return toSegments(points, matchRanges(points, terms), 0, points.length);
}

/** About `width` characters of `text` around its first match, with ellipses where it was cut. */
export function snippet(text: string, terms: string[], width = 180): Segment[] {
  const points = pointsOf(text.replace(/\s+/g, " ").trim());
  const marked = matchRanges(points, terms);
  const first = Math.max(0, marked.indexOf(true));
  let from = Math.max(0, first - Math.floor(width / 3));
  const to = Math.min(points.length, from + width);
  from = Math.max(0, Math.min(from, to - width));
  const segments = toSegments(points, marked, from, to);
  if (from > 0) segments.unshift({ text: "…", highlight: false });
  if (to < points.length) segments.push({ text: "…", highlight: false });
  return segments;
}
