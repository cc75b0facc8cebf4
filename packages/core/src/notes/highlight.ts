// Highlighting done in one place for both databases, as segments rather than HTML: the web app
// renders them as text, so a note can never inject markup through its search results.
import { foldedWords, foldText, isAscii } from "@notebox/db";

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

const ASCII_WORD_CHAR = /[a-z0-9]/;
const SURROGATE = /[\ud800-\udfff]/;
const COMBINING_MARK = /\p{M}/u;

/**
 * A text as code points. Without characters outside the Basic Multilingual Plane (nearly every
 * text) it is its own string, one unit per code point; any other is split into its characters.
 */
interface Points {
  text: string;
  ascii: boolean;
  /** The characters, when some take two UTF-16 units. */
  chars: string[] | null;
  length: number;
}

function pointsOf(text: string): Points {
  if (isAscii(text)) return { text, ascii: true, chars: null, length: text.length };
  if (!SURROGATE.test(text)) return { text, ascii: false, chars: null, length: text.length };
  const chars = [...text];
  return { text, ascii: false, chars, length: chars.length };
}

/**
 * Which code points of the text are in a word that starts with one of `terms` (both compared
 * folded). Text whose every character folds to one unit (ASCII, Latin with precomposed accents)
 * is folded whole; any other character by character.
 */
function matchRanges(
  { text, ascii, chars, length }: Points,
  terms: string[],
  knownFolded: string | null = null,
): boolean[] {
  const marked = new Array<boolean>(length).fill(false);
  const folded = knownFolded ?? (ascii ? text.toLowerCase() : chars ? null : foldedOnePerUnit(text));
  if (folded === null) return matchRangesByChar(chars ?? [...text], terms, marked);
  const wordChar = ascii ? ASCII_WORD_CHAR : WORD_CHAR;
  for (const term of terms) {
    for (let at = folded.indexOf(term); at !== -1; at = folded.indexOf(term, at + 1)) {
      if (at > 0 && wordChar.test(folded[at - 1]!)) continue;
      marked.fill(true, at, at + term.length);
    }
  }
  return marked;
}

/**
 * The folded text when each UTF-16 unit of `text` (a text without surrogates) folds to exactly
 * one unit, so positions in it are the text's own; else null. That holds when the text has no
 * combining marks (which fold to nothing) and folds to its own length (a character that folds to
 * more units cannot be made up for), and no capital sigma (lower-cased as a whole, a final one
 * becomes ς; character by character, σ).
 */
function foldedOnePerUnit(text: string): string | null {
  if (COMBINING_MARK.test(text) || text.includes("\u03a3")) return null;
  const folded = foldText(text);
  return folded.length === text.length ? folded : null;
}

/** matchRanges for any text: each character folded on its own, matches mapped back through them. */
function matchRangesByChar(chars: string[], terms: string[], marked: boolean[]): boolean[] {
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

/** Where in a folded text the first word that one of `terms` starts begins; -1 when there is none. */
export function firstWordHit(folded: string, terms: string[]): number {
  let first = -1;
  for (const term of terms) {
    for (let at = folded.indexOf(term); at !== -1 && (first === -1 || at < first); at = folded.indexOf(term, at + 1)) {
      if (at > 0 && WORD_CHAR.test(folded[at - 1]!)) continue;
      first = at;
      break;
    }
  }
  return first;
}

/**
 * The part of a long `text` that holds its snippet: from `width` characters before the first word
 * a term starts (or a word boundary a little after that) to `width` past it. The hit is looked for
 * in the folded text when its positions are the text's own (foldedOnePerUnit); otherwise, or
 * without a word boundary near, the snippet is made from the whole text, as it always was.
 */
function aroundFirstHit(
  text: string,
  terms: string[],
  width: number,
): { start: number; end: number; folded: string | null } {
  const whole = { start: 0, end: text.length, folded: null };
  // Without surrogates, a UTF-16 index is a code point's, as the snippet's width counts them.
  if (text.length <= 2 * width || SURROGATE.test(text)) return whole;
  const folded = foldedOnePerUnit(text);
  if (folded === null) return whole;
  const wordCharAt = (at: number) => WORD_CHAR.test(folded[at]!);
  const first = firstWordHit(folded, terms);
  if (first === -1) return { start: 0, end: width, folded };
  // Up to `width` before the hit: a hit near the end is shown with that much before it.
  let start = Math.max(0, first - width);
  const latest = Math.max(start, first - Math.floor(width / 3));
  while (start > 0 && start < latest && wordCharAt(start - 1)) start++;
  if (start > 0 && (wordCharAt(start - 1) || (start > first - width && text.length - first < width))) {
    return { start: 0, end: text.length, folded };
  }
  // Past the snippet's end by the longest term, so that a word the snippet cuts is still matched.
  return { start, end: Math.min(text.length, first + width + Math.max(...terms.map((t) => t.length))), folded };
}

/**
 * About `width` characters of `whole` around its first match, with ellipses where it was cut.
 * `whole` is plain text with one space between words, as markdownText gives it (collapsing it
 * again here was a fifth of the cost of a search hit's snippet).
 */
export function snippet(whole: string, terms: string[], width = 180): Segment[] {
  // The part around the hit, with its folded form when the hit was looked for in it.
  const { start, end, folded } = aroundFirstHit(whole, terms, width);
  const points = pointsOf(start === 0 && end === whole.length ? whole : whole.slice(start, end));
  const marked = matchRanges(points, terms, folded?.slice(start, end) ?? null);
  const first = Math.max(0, marked.indexOf(true));
  let from = Math.max(0, first - Math.floor(width / 3));
  const to = Math.min(points.length, from + width);
  from = Math.max(0, Math.min(from, to - width));
  const segments = toSegments(points, marked, from, to);
  if (start > 0 || from > 0) segments.unshift({ text: "…", highlight: false });
  if (end < whole.length || to < points.length) segments.push({ text: "…", highlight: false });
  return segments;
}
