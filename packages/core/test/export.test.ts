import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  csvChunks,
  csvField,
  neutralizeFormula,
  xlsxChunks,
  xlsxText,
  XLSX_CELL_MAX,
  type ExportedNote,
} from "../src/notes/export-writers";

/** How Excel reads `_xHHHH_` in cell text (ECMA-376 ST_Xstring). */
const decodeXstring = (text: string) =>
  text.replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
const cellText = (text: string) =>
  xlsxText(text)
    .richText.map((run) => run.text)
    .join("");

describe("neutralizeFormula", () => {
  it("prefixes text a spreadsheet would treat as a formula with an apostrophe", () => {
    for (const text of ["=1+1", "+1", "-1", "@SUM(1)", "\tx", "\rx", "=cmd|' /C calc'!A0"]) {
      expect(neutralizeFormula(text)).toBe(`'${text}`);
    }
  });

  it("catches = + - @ after a leading run of white space, control or invisible characters", () => {
    for (const lead of [
      " ",
      "   ",
      "\t",
      "\r",
      "\n",
      "\r\n",
      " \t\r\n ",
      "\u00a0",
      "\u3000",
      "\u2003",
      "\ufeff",
      "\u200b",
      "\u2060",
      "\u0001",
      "\u000b\u000c",
    ]) {
      for (const start of ["=", "+", "-", "@"]) {
        const text = `${lead}${start}HYPERLINK("http://evil.test")`;
        expect(neutralizeFormula(text), JSON.stringify(text)).toBe(`'${text}`);
      }
    }
  });

  it("catches fullwidth ＝ ＋ － ＠ and every other character NFKC folds to = + - @, with or without white space before", () => {
    const folding: string[] = [];
    for (let cp = 0x80; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const character = String.fromCodePoint(cp);
      if ("=+-@".includes(character.normalize("NFKC")[0]!)) folding.push(character);
    }
    expect(folding).toEqual(expect.arrayContaining(["\uff1d", "\uff0b", "\uff0d", "\uff20"]));
    for (const character of folding) {
      for (const text of [`${character}1+1`, ` \u3000\t${character}1+1`])
        expect(neutralizeFormula(text), JSON.stringify(text)).toBe(`'${text}`);
    }
  });

  it("leaves other text alone", () => {
    for (const text of [
      "",
      "plain",
      "a=1",
      " a=1",
      "'already",
      "\nx",
      "  x",
      "\u3000x",
      "1-1",
      "€=",
      "2026-01-01",
      "\u2212 1",
      "＄5",
      " ",
    ]) {
      expect(neutralizeFormula(text), JSON.stringify(text)).toBe(text);
    }
  });
});

describe("csvField", () => {
  it("quotes fields with quotes, commas, CR or LF, doubling the quotes", () => {
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField("a\r\nb")).toBe('"a\r\nb"');
    expect(csvField("a\nb")).toBe('"a\nb"');
    expect(csvField("café 😀")).toBe("café 😀");
  });
});

describe("xlsxText", () => {
  it("keeps CR and text that looks like an escape exactly as typed", () => {
    for (const text of ["a\rb", "a\r\nb", "_x000D_", "_x005F\r", "_x00ff_", "__x0041__", "_x00\r", "x_\r_x"]) {
      expect(decodeXstring(cellText(text))).toBe(text);
    }
  });

  it("round-trips any mix of underscores, escape-like text and CRs", () => {
    const alphabet = ["_", "x", "0", "D", "5", "F", "f", "\r", "a"];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 5000; i++) {
      const text = Array.from(
        { length: 1 + Math.floor(random() * 16) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join("");
      // A leading CR gets the apostrophe; everything after it must survive.
      expect(decodeXstring(cellText(text)), JSON.stringify(text)).toBe(neutralizeFormula(text));
    }
  });

  it("cuts text to Excel's cell limit without splitting a character, and says so", () => {
    const text = `${"a".repeat(XLSX_CELL_MAX - 120)}${"😀".repeat(20_000)}`;
    for (let shift = 0; shift < 4; shift++) {
      const cut = decodeXstring(cellText("b".repeat(shift) + text));
      expect(cut.length).toBeLessThanOrEqual(XLSX_CELL_MAX);
      expect(cut).toContain("32,767 characters");
      expect(cut).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    }
    expect(cellText("short")).toBe("short");
  });
});

/** About 500 characters that compress like real text (3-4x) rather than like a repeated phrase. */
function words(): string {
  return randomBytes(300).toString("base64").replace(/[+/=]/g, " ").toLowerCase().slice(0, 500);
}

function note(i: number): ExportedNote {
  const at = new Date(Date.UTC(2026, 0, 1) - i * 1000);
  return { id: `id-${i}`, title: `Note ${i}`, description: words(), createdAt: at, updatedAt: at, tags: [] };
}

/** Batches of notes that count how many the writer has asked for. */
function countingBatches(batches: number, size: number) {
  const state = { pulled: 0, closed: false };
  async function* source() {
    try {
      for (let b = 0; b < batches; b++) {
        await Promise.resolve(); // as a database read would
        state.pulled++;
        yield Array.from({ length: size }, (_, k) => note(b * size + k));
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, source: source() };
}

describe("streaming", () => {
  it("xlsx: a reader that stops reading stops the batches being read", async () => {
    const { state, source } = countingBatches(200, 1000);
    const chunks = xlsxChunks(source);
    await chunks.next();
    // Wait until the writer has stopped asking for batches (or has taken them all).
    let before = -1;
    for (let waited = 0; state.pulled !== before && waited < 15_000; waited += 300) {
      before = state.pulled;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    // 200 batches are about 160 MB of sheet XML; without backpressure the writer takes them all.
    // With it, it stops once the stream buffers between the sheet, zlib and the zip are full.
    expect(state.pulled).toBeLessThan(50);
    await chunks.return(undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(state.closed).toBe(true);
  }, 30_000);

  it("csv: one batch per chunk, read only when asked for", async () => {
    const { state, source } = countingBatches(50, 10);
    const chunks = csvChunks(source);
    expect((await chunks.next()).value).toBe("\uFEFFTitle,Text,Created,Updated,Id,Tags\r\n");
    await chunks.next();
    expect(state.pulled).toBe(1);
    await chunks.return(undefined);
    expect(state.closed).toBe(true);
  });
});
