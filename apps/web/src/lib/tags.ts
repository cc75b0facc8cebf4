// Tag names as the API takes them: trimmed, 1..TAG_NAME_MAX characters, at most TAGS_PER_NOTE_MAX
// on a note, and the same tag whatever its case or accents.
import { TAG_NAME_MAX, TAGS_PER_NOTE_MAX, tagKey } from "@notebox/api/limits";

export { TAG_NAME_MAX, TAGS_PER_NOTE_MAX, tagKey };

export function hasTag(tags: readonly string[], name: string): boolean {
  const key = tagKey(name);
  return tags.some((t) => tagKey(t) === key);
}

/** Why `name` cannot be added to `tags`, or null when it can. */
export function tagProblem(tags: readonly string[], name: string): string | null {
  const trimmed = name.trim();
  if (!trimmed) return "Type a tag name first.";
  if ([...trimmed].length > TAG_NAME_MAX) return `Keep a tag to ${TAG_NAME_MAX} characters.`;
  if (hasTag(tags, trimmed)) return `The note already has the tag “${trimmed}”.`;
  if (tags.length >= TAGS_PER_NOTE_MAX) return `A note can have up to ${TAGS_PER_NOTE_MAX} tags.`;
  return null;
}

export function sameTags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/**
 * #hashtags written in the text (outside code), in order of appearance, once each: offered as tags,
 * never added on their own. A heading ("# Title") is not one; neither is a link's #anchor.
 */
export function hashtags(text: string): string[] {
  const found: string[] = [];
  let fenced = false;
  for (const line of text.split("\n")) {
    if (/^\s{0,3}(```|~~~)/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced || /^( {4}|\t)/.test(line)) continue;
    const plain = line.replace(/`[^`]*`/g, " ").replace(/\]\([^)]*\)/g, "]");
    for (const match of plain.matchAll(/(?<![\p{L}\p{N}_&/#])#([\p{L}\p{N}_][\p{L}\p{N}_-]*)/gu)) {
      const name = match[1]!.replace(/[-_]+$/, "");
      if (!name || /^\d+$/.test(name) || [...name].length > TAG_NAME_MAX) continue;
      if (!hasTag(found, name)) found.push(name);
    }
  }
  return found;
}
