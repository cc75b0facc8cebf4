// How text is compared wherever case and accents must not matter: search words (both engines and
// the highlighting), tag names. One definition, so a word found is a word highlighted. No imports:
// the web app takes tagKey from here too (through @notebox/api/limits).

/** A character outside ASCII: looked for, rather than every character matched, it costs half as much. */
const NON_ASCII = /[\u0080-\uffff]/;

/** Whether `text` is all ASCII (most text is), which folds by lower-casing alone. */
export const isAscii = (text: string) => !NON_ASCII.test(text);

/**
 * Lower-cased, accents removed. The accents of Latin letters (the combining diacritical marks
 * block) go first, with a plain character class; only a text with some other mark left is run
 * through the Unicode property class, which costs as much again.
 */
export function foldText(text: string): string {
  if (isAscii(text)) return text.toLowerCase();
  const decomposed = text.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  return (isAscii(decomposed) ? decomposed : decomposed.replace(/\p{M}/gu, "")).toLowerCase();
}

/** The words of `text`, folded: runs of letters and digits. */
export function foldedWords(text: string): string[] {
  return foldText(text.normalize("NFKC")).match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** How many of `terms` start a word of `text`, compared folded: a search hit's rank tier. */
export function termsStartingWords(text: string, terms: string[]): number {
  const words = foldedWords(text);
  return terms.filter((term) => words.some((word) => word.startsWith(term))).length;
}

/** How tags compare: no case, no accents, one space between words ("Café  Work" is "cafe work"). */
export function tagKey(name: string): string {
  return foldText(name.normalize("NFKC")).replace(/\s+/g, " ").trim();
}
