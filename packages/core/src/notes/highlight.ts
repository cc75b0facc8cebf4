// Highlighting done in one place for both databases, as segments rather than HTML: the web app
// renders them as text, so a note can never inject markup through its search results.

export interface Segment {
  text: string;
  highlight: boolean;
}

/** Lower-cased, accents removed: how both search engines compare words. */
export function foldText(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

/** The words of a query: letters and digits only, so nothing a person types is query syntax. */
export function searchTerms(query: string, { max = 8, maxLength = 64 } = {}): string[] {
  const words = foldText(query.normalize("NFKC")).match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words.map((w) => [...w].slice(0, maxLength).join("")))].slice(0, max);
}

/** How many of `terms` start a word of `text`, compared folded: a hit's rank tier. */
export function termsStartingWords(text: string, terms: string[]): number {
  const words = foldText(text.normalize("NFKC")).match(/[\p{L}\p{N}]+/gu) ?? [];
  return terms.filter((term) => words.some((word) => word.startsWith(term))).length;
}

/** Code-point ranges of `text` where a word starts with one of `terms` (both compared folded). */
function matchRanges(chars: string[], terms: string[]): boolean[] {
  let folded = "";
  const origin: number[] = [];
  chars.forEach((c, i) => {
    for (const f of foldText(c)) {
      folded += f;
      origin.push(i);
    }
  });
  const marked = new Array<boolean>(chars.length).fill(false);
  const foldedChars = [...folded];
  for (const term of terms) {
    const termChars = [...term];
    for (let i = 0; i + termChars.length <= foldedChars.length; i++) {
      const atWordStart = i === 0 || !/[\p{L}\p{N}]/u.test(foldedChars[i - 1]!);
      if (!atWordStart) continue;
      let same = true;
      for (let k = 0; k < termChars.length && same; k++) same = foldedChars[i + k] === termChars[k];
      if (same) for (let k = 0; k < termChars.length; k++) marked[origin[i + k]!] = true;
    }
  }
  return marked;
}

function toSegments(chars: string[], marked: boolean[], from: number, to: number): Segment[] {
  const segments: Segment[] = [];
  for (let i = from; i < to; i++) {
    const last = segments[segments.length - 1];
    if (last && last.highlight === marked[i]) last.text += chars[i];
    else segments.push({ text: chars[i]!, highlight: marked[i]! });
  }
  return segments;
}

export function highlight(text: string, terms: string[]): Segment[] {
  const chars = [...text];
  return toSegments(chars, matchRanges(chars, terms), 0, chars.length);
}

/** About `width` characters of `text` around its first match, with ellipses where it was cut. */
export function snippet(text: string, terms: string[], width = 180): Segment[] {
  const chars = [...text.replace(/\s+/g, " ").trim()];
  const marked = matchRanges(chars, terms);
  const first = Math.max(0, marked.indexOf(true));
  let from = Math.max(0, first - Math.floor(width / 3));
  const to = Math.min(chars.length, from + width);
  from = Math.max(0, Math.min(from, to - width));
  const segments = toSegments(chars, marked, from, to);
  if (from > 0) segments.unshift({ text: "…", highlight: false });
  if (to < chars.length) segments.push({ text: "…", highlight: false });
  return segments;
}
