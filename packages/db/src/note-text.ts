// What a note's Markdown says as plain text: for the excerpt shown in lists (stored when the note
// is written, see models/notes.ts) and the text around a search hit. Parsed with marked, the same
// parser the web app renders with, so `**`, `#`, table rules and code fences never show.
import { Lexer, type Token, type Tokens } from "marked";
import { NOTE_EXCERPT_LENGTH } from "./sizes";

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] !== "#") return ENTITIES[name.toLowerCase()] ?? whole;
    const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : whole;
  });
}

function walk(tokens: readonly Token[], out: string[]): void {
  for (const token of tokens) {
    switch (token.type) {
      case "space":
      case "hr":
      case "br":
        out.push("\n");
        break;
      case "code":
        out.push((token as Tokens.Code).text, "\n");
        break;
      case "codespan":
        out.push((token as Tokens.Codespan).text);
        break;
      case "html":
        out.push(decodeEntities((token as Tokens.HTML).text.replace(/<[^>]*>/g, " ")));
        break;
      case "table": {
        const table = token as Tokens.Table;
        for (const row of [table.header, ...table.rows]) {
          for (const cell of row) {
            walk(cell.tokens, out);
            out.push(" ");
          }
          out.push("\n");
        }
        break;
      }
      case "list":
        for (const item of (token as Tokens.List).items) {
          walk(item.tokens, out);
          out.push("\n");
        }
        break;
      default: {
        const inner = (token as { tokens?: Token[] }).tokens;
        if (inner && inner.length > 0) walk(inner, out);
        else if ("text" in token && typeof token.text === "string") out.push(decodeEntities(token.text));
        if (token.type === "heading" || token.type === "paragraph" || token.type === "blockquote") out.push("\n");
      }
    }
  }
}

/**
 * Characters none of which can begin Markdown markup: ASCII letters and digits, spaces, tabs, line
 * breaks, the punctuation of prose listed (so none of # * _ ~ backtick > < [ ] | backslash & = +
 * @), and every character outside ASCII, since all of Markdown's markup is ASCII. A plain class,
 * without Unicode properties: over the window of a search hit's snippet it cost twice as much.
 */
const PROSE_CHARACTERS = /^[A-Za-z0-9 \t\n\r.,;:?!'"()/%$\u0080-\uffff-]*$/;
/**
 * Of those, what is markup at a line's start: an ASCII digit (`1.` starts a list; no other digit
 * does), a `-` (a list, a rule, a heading's underline) or a `:` (`:-` is the delimiter row of a
 * one-column table).
 */
const MARKUP_LINE_START = /(?:^|[\n\r])[ \t]*[0-9:-]/;

/** Whether `text` is prose without markup, which Markdown shows as it is written (whitespace aside). */
export function isPlainProse(text: string): boolean {
  return PROSE_CHARACTERS.test(text) && !MARKUP_LINE_START.test(text);
}

/**
 * Whitespace that is not already one space: a run of two or more, or a single line break, tab or
 * other space. Replacing only these, not every space between two words, makes far fewer pieces.
 */
const UNCOLLAPSED = /\s{2,}|[^\S ]/g;

/** One space between words, no line breaks, none at the ends. */
const collapsed = (text: string) => text.replace(UNCOLLAPSED, " ").trim();

/** markdownText through the parser, whatever the text (exported for the test that compares both ways). */
export function parsedMarkdownText(markdown: string): string {
  const out: string[] = [];
  walk(Lexer.lex(markdown, { gfm: true }), out);
  return collapsed(out.join(""));
}

/**
 * The text of `markdown` as a reader sees it: markup gone, one space between words, no line breaks.
 * Prose without markup (a plain note, or the window of a note a search snippet shows when it falls
 * between its markup) is its own text: parsing it, most of the Node-side cost of a page of search
 * hits, would only collapse its whitespace.
 */
export function markdownText(markdown: string): string {
  return isPlainProse(markdown) ? collapsed(markdown) : parsedMarkdownText(markdown);
}

/** Parsing a long note for its first lines needs only its start. */
const EXCERPT_SOURCE = 4 * NOTE_EXCERPT_LENGTH + 2000;

/** The start of a note's text as plain text, cut at a word with an ellipsis when longer. */
export function noteExcerpt(markdown: string, length = NOTE_EXCERPT_LENGTH): string {
  const flat = markdownText(markdown.length > EXCERPT_SOURCE ? markdown.slice(0, EXCERPT_SOURCE) : markdown);
  if ([...flat].length <= length) return flat;
  const cut = [...flat].slice(0, length - 1).join("");
  const atWord = cut.replace(/\s+\S*$/, "");
  return `${(atWord.length >= length / 2 ? atWord : cut).trimEnd()}…`;
}

/** An unticked task item (`- [ ] …`), GitHub's syntax, anywhere in the note. */
const OPEN_TASK = /^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\[ \][ \t]/m;

export function hasOpenTask(markdown: string): boolean {
  return OPEN_TASK.test(markdown);
}
