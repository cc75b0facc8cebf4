import { describe, expect, it } from "vitest";
import { highlight, snippet, termsStartingWords } from "../src/notes/highlight";

/** The highlighted parts of a segment list. */
const marked = (segments: { text: string; highlight: boolean }[]) =>
  segments.filter((s) => s.highlight).map((s) => s.text);

describe("highlight", () => {
  it("marks words that start with a term, compared without case or accents", () => {
    expect(marked(highlight("Crème BRÛLÉE for the Café", ["creme", "bru", "cafe"]))).toEqual(["Crème", "BRÛ", "Café"]);
  });

  it("does not mark a term inside a word", () => {
    expect(marked(highlight("ice cream and scream", ["cream"]))).toEqual(["cream"]);
    expect(marked(highlight("snake_case", ["case"]))).toEqual(["case"]);
  });

  it("treats a letter outside the Basic Multilingual Plane as part of the word", () => {
    expect(marked(highlight("𝐀bc abc", ["bc"]))).toEqual([]);
    expect(marked(highlight("𝐀bc abc", ["abc"]))).toEqual(["abc"]);
    expect(marked(highlight("🎉party time", ["party"]))).toEqual(["party"]);
  });

  it("maps a match in decomposed text back to the characters typed", () => {
    expect(marked(highlight("e\u0301te\u0301 hot", ["ete"]))).toEqual(["e\u0301te\u0301"]);
    expect(
      highlight("e\u0301te\u0301 hot", ["ete"])
        .map((s) => s.text)
        .join(""),
    ).toBe("e\u0301te\u0301 hot");
  });

  it("marks every occurrence and overlapping terms once", () => {
    expect(highlight("Plan the plans", ["plan", "pla"])).toEqual([
      { text: "Plan", highlight: true },
      { text: " the ", highlight: false },
      { text: "plan", highlight: true },
      { text: "s", highlight: false },
    ]);
  });
});

describe("snippet", () => {
  it("cuts around the first match with ellipses and keeps the text intact", () => {
    const text = `${"lorem ".repeat(100)}needle ${"ipsum ".repeat(100)}`.trim();
    const segments = snippet(text, ["needle"], 60);
    expect(segments[0]).toEqual({ text: "…", highlight: false });
    expect(segments[segments.length - 1]).toEqual({ text: "…", highlight: false });
    expect(marked(segments)).toEqual(["needle"]);
    expect(segments.map((s) => s.text).join("").length).toBe(62);
  });

  it("is the same for a long text whether its hit is found in the folded text or character by character", () => {
    // The first text folds one unit per character (the hit is found in it and only around it is
    // walked); the second ends with a combining accent, so it is walked whole, character by
    // character. Their snippets, made far from that accent, must be the same.
    const body = `${"café lorem ".repeat(60)}téte ${"thé ipsum ".repeat(3)}Théâtre tea${"x".repeat(30)} ${"ipsum ".repeat(80)}`;
    const precomposed = snippet(`${body}e`, ["the", "tea"]);
    expect(precomposed).toEqual(snippet(`${body}e\u0301`, ["the", "tea"]));
    expect(marked(precomposed)).toEqual(["thé", "thé", "thé", "Thé", "tea"]);
    expect(precomposed[0]).toEqual({ text: "…", highlight: false });
    expect(precomposed[precomposed.length - 1]).toEqual({ text: "…", highlight: false });
  });

  it("shows a hit near the end of a long text with the full width before it, and a word cut at the end still marked", () => {
    const text = `${"lorem ".repeat(200)}needle end`;
    const segments = snippet(text, ["needle"], 60);
    expect(segments.map((s) => s.text).join("")).toBe(`…${text.slice(-60)}`);
    const cut = snippet(
      `${"lorem ".repeat(100)}needle ${"a".repeat(30)} needles ${"ipsum ".repeat(100)}`.trim(),
      ["needle"],
      60,
    );
    expect(marked(cut)).toEqual(["needle", "ne"]);
    const atEdge = snippet(`needle ${"a".repeat(51)} needles ${"ipsum ".repeat(100)}`.trim(), ["needle"], 60);
    expect(marked(atEdge)).toEqual(["needle", "n"]);
  });

  it("starts at the beginning when nothing matches", () => {
    const segments = snippet("short text", ["zzz"]);
    expect(segments).toEqual([{ text: "short text", highlight: false }]);
  });
});

describe("termsStartingWords", () => {
  it("counts the terms that start some word", () => {
    expect(termsStartingWords("Weekly Budget Review", ["bud", "rev", "eek", "zz"])).toBe(2);
  });
});
