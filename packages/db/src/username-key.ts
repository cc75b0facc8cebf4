// What makes two usernames the same name: the key of users.username_key (unique), which the
// sign-up, create-admin and the import compute through core, and the migration that rekeyed the
// existing accounts computes here.
import unhomoglyph from "unhomoglyph";

/**
 * The Unicode TR39 skeleton of the case-folded NFKC name: names a person cannot tell apart get the
 * same key, so the second one is "taken". NFKC makes fullwidth `ａｄｍｉｎ` `admin`; upper- then
 * lower-casing comes as near to full case folding as JavaScript does (`ß` and `SS` fold to `ss`,
 * `ς` to `σ`); the skeleton (NFD, each character replaced by its prototype from confusables.txt,
 * NFD again) makes Cyrillic `а` Latin `a`, and `m` `rn`. A key is compared, never shown.
 */
export function usernameKey(username: string): string {
  const folded = username.normalize("NFKC").toUpperCase().toLowerCase();
  return unhomoglyph(folded.normalize("NFD")).normalize("NFD");
}

/** The width of users.username_key: a name whose key is longer is refused. */
export const USERNAME_KEY_MAX = 64;

/**
 * Never part of a key computed from a name: confusables.txt maps nothing to it and nothing from it,
 * and usernames cannot contain it. Keys set aside by hand (an account that collided with an older
 * one when the keys were recomputed) use it, so no sign-up can ever match them.
 */
export const USERNAME_KEY_RESERVED = "#";
