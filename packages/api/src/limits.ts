// The bounds of one tRPC request, shared with the clients (the web app and @notebox/client batch
// no more calls than the server accepts), and the sizes of a note and a file name, for the web
// app's forms. Nothing here imports server code, so a browser bundle can take it alone.
export {
  BULK_NOTES_MAX,
  FILE_NAME_INPUT_MAX,
  FILE_NAME_MAX_BYTES,
  NOTE_TEXT_MAX_BYTES,
  NOTE_TITLE_MAX,
  TAG_NAME_MAX,
  TAGS_PER_NOTE_MAX,
  utf8Bytes,
} from "@notebox/db/sizes";
/** How two tag names compare (case and accents aside): the server's rule, for the web app's checks. */
export { tagKey } from "@notebox/db/fold";

/** Calls in one batched request. */
export const MAX_BATCH_CALLS = 10;
/** Nesting of a request's JSON: a batch wraps an input of a few levels in one more. */
export const MAX_INPUT_DEPTH = 32;
/** A request body, enforced by the server before it is read: ten notes of 100 KB, escaped, fit. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
/**
 * Notes in a page of the home list: what it asks for, and what the server puts in the page it
 * serves a signed-in person for the first paint (apps/server/src/web.ts).
 */
export const HOME_PAGE_SIZE = 20;
