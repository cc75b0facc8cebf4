// How big a note and a file name may be: the one definition, used by the columns here, core's
// import and file-name cleaning, the API's schemas and the web app's forms (through
// @notebox/api/limits). No imports, so a browser bundle can take it alone.

/** A note's title, in characters (notes.title is VARCHAR of it). */
export const NOTE_TITLE_MAX = 200;
/** A note's text, in UTF-8 bytes. */
export const NOTE_TEXT_MAX_BYTES = 100 * 1024;
/** A file's name, in UTF-8 bytes (files.name is VARCHAR of it: 255 characters hold any such name). */
export const FILE_NAME_MAX_BYTES = 255;

/** A file name typed for a rename, in characters: longer is refused; up to it, the name is
 * shortened to FILE_NAME_MAX_BYTES keeping its extension, as an upload's is. */
export const FILE_NAME_INPUT_MAX = 1000;

/** UTF-8 bytes of `text`, the same in Node and in a browser. */
export function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** A note's plain-text excerpt, in characters (notes.excerpt is VARCHAR of a little more). */
export const NOTE_EXCERPT_LENGTH = 240;

/** A tag's name, in characters after trimming; a note has at most TAGS_PER_NOTE_MAX of them. */
export const TAG_NAME_MAX = 40;
export const TAGS_PER_NOTE_MAX = 20;

/** Notes one bulk action may name. */
export const BULK_NOTES_MAX = 500;
