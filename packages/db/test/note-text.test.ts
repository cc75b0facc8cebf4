// markdownText reads prose without markup as it is written, without the parser: the two ways must
// give the same text for every such prose, and the parser must still see everything else.
import { describe, expect, it } from "vitest";
import { isPlainProse, markdownText, noteExcerpt, parsedMarkdownText } from "../src/note-text";

/** mulberry32: the same pieces every run, so a failure names a text that fails again. */
function prng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Pieces of prose and of the near misses around it: every kind of character the shortcut allows
 * (non-ASCII letters, marks, digits, punctuation, symbols and spaces among them), at the start of
 * a line and inside one, web addresses (which GFM turns into links), indented lines
 * (code blocks), hard breaks, paragraphs, list and rule markers, headings' underlines.
 */
// prettier-ignore
const PIECES = [
  "word", "Notes", "café", "e\u0301te", "日本語", "Ωmega", "x", "2024", "1", "42.", "3)", "½", "Ⅻ", " ", "  ",
  "   ", "    ", "\t", "\n", "\n\n", "\r\n", "\r", "  \n", ".", ",", ";", ":", "?", "!", "'", '"', "(", ")",
  "/", "%", "$", "-", "--", "---", "- ", "1. ", "2) ", "www.example.com", "https://example.org/a/b",
  "http://x.y", "ftp://files.example.net/", "and/or", "(www.a.b)", "well-known", "Note: ", "100%", "$5",
  "e.g.", "...", "!!", "?!", "—", "“quoted”", "«", "»", "€", "×", "•", "😀", "١٢", "\u00a0", "\u00a0- ",
  "\u2028", "\u3000", "\ufeff", "\u0085", "\u200b",
];
/** Markup: were the shortcut to take any of it, the comparison below would see the difference. */
// prettier-ignore
const MARKUP = [
  "*", "**b**", "_i_", "# ", "`c`", "~~s~~", "> ", "<b>", "[a](b)", "![i](p)", "|", "\\*", "&amp;", "=",
  "+ ", "@",
];

function randomText(random: () => number): string {
  let text = "";
  const pieces = 1 + Math.floor(random() * 30);
  for (let i = 0; i < pieces; i++) {
    const from = random() < 0.01 ? MARKUP : PIECES;
    text += from[Math.floor(random() * from.length)];
  }
  return text;
}

describe("markdownText", () => {
  it("reads prose without markup exactly as the parser does", () => {
    const random = prng(20261206);
    let plain = 0;
    for (let i = 0; i < 30_000; i++) {
      const text = randomText(random);
      if (!isPlainProse(text)) continue;
      plain++;
      const parsed = parsedMarkdownText(text);
      if (markdownText(text) !== parsed) expect({ text, got: markdownText(text) }).toEqual({ text, got: parsed });
      // Prose is its own text with every run of whitespace one space, none at the ends.
      const spaced = text.replace(/\s+/g, " ").trim();
      if (parsed !== spaced) expect({ text, got: parsed }).toEqual({ text, got: spaced });
    }
    // The comparison is about the shortcut: enough of the texts must have taken it.
    expect(plain).toBeGreaterThan(3_000);
  });

  it("leaves everything that may be markup to the parser", () => {
    const cases: [string, string][] = [
      ["1. first\n2. second", "first second"],
      ["- one\n- two", "one two"],
      ["Title\n---\nbody", "Title body"],
      ["Title\n===\nbody", "Title body"],
      ["text\r1. item", "text item"],
      ["column\n:-", "column"],
      ["  3) indented item", "indented item"],
      ["**bold** and _it_", "bold and it"],
      ["# Heading", "Heading"],
      ["a &amp; b", "a & b"],
      ["[link](https://example.org)", "link"],
      ["> quoted", "quoted"],
      ["| a | b |\n|---|---|\n| 1 | 2 |", "a b 1 2"],
      ["x\\*y", "x*y"],
      ["mail me@example.org", "mail me@example.org"],
    ];
    for (const [markdown, text] of cases) {
      expect(isPlainProse(markdown), markdown).toBe(false);
      expect(markdownText(markdown), markdown).toBe(text);
    }
  });

  it("takes the shortcut for ordinary prose, and the excerpt is the same", () => {
    const prose = "New because on server this is it.\n\nAs no garden, but not 2024 or well-known: (yes) 100%!";
    expect(isPlainProse(prose)).toBe(true);
    expect(markdownText(prose)).toBe(parsedMarkdownText(prose));
    expect(noteExcerpt(prose, 40)).toBe("New because on server this is it. As…");
  });
});
