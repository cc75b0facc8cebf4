// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- regenerate-unicode-properties ships no types; the declaration must travel with this file into every project that compiles it
/// <reference path="./regenerate-unicode-properties.d.ts" />
import { USERNAME_KEY_MAX, usernameKey, type Role, type UserRow } from "@notebox/db";
import unicodeProperties from "regenerate-unicode-properties";
import { AppError } from "./errors";

/** The user as every API answer shows it; never the hash or internal flags. */
export interface PublicUser {
  id: string;
  username: string;
  email: string;
  role: Role;
  createdAt: string;
}

export function toPublicUser(user: Pick<UserRow, keyof PublicUser | "createdAt">): PublicUser {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
  };
}

// What an account's username and email address may be: the sign-up form's rules (packages/api
// schemas), which create-admin and the import from the original system apply too.

export { EMAIL_MAX, isEmailAddress } from "@notebox/mail";
export { usernameKey };

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
const USERNAME_CHARACTERS = /^[\p{L}\p{N}_.-]+$/u;
/** Longer input is refused unread: NFKC composes no more than a few code units into one. */
const USERNAME_INPUT_MAX = 8 * USERNAME_MAX;

export type UsernameCheck = { username: string; problem: null } | { username: null; problem: string };

/**
 * A username as it is stored (NFKC, so fullwidth `ａｄｍｉｎ` is `admin`, without surrounding
 * spaces), or why it cannot be one, in words for the form: 3 to 32 letters, digits, dots, dashes
 * and underscores, the letters of one script (see `mixedScripts`), and a key (`usernameKey`, the
 * skeleton that makes look-alike names one name) that fits its column.
 */
export function checkUsername(input: string): UsernameCheck {
  const refuse = (problem: string): UsernameCheck => ({ username: null, problem });
  if (input.length > USERNAME_INPUT_MAX) return refuse(`Use at most ${USERNAME_MAX} characters.`);
  const username = input.normalize("NFKC").trim();
  if (username.length < USERNAME_MIN) return refuse(`Use at least ${USERNAME_MIN} characters.`);
  if (username.length > USERNAME_MAX) return refuse(`Use at most ${USERNAME_MAX} characters.`);
  if (!USERNAME_CHARACTERS.test(username)) return refuse("Use only letters, digits, dots, dashes and underscores.");
  const scripts = mixedScripts(username);
  if (scripts) return refuse(`Use the letters of one script: this name mixes ${scripts[0]} and ${scripts[1]}.`);
  if (usernameKey(username).length > USERNAME_KEY_MAX) return refuse("Choose a shorter username.");
  return { username, problem: null };
}

/** Characters every script uses (digits, `_ . -`, combining marks): they go with any letters. */
const ANY_SCRIPT = /^[\p{scx=Common}\p{scx=Inherited}]$/u;
/** Only Latin letters besides characters of every script: one script, whatever the mix. */
const ASCII = /^\p{ASCII}*$/u;

/** Scripts written together, as one (TR39's augmented script sets Jpan, Kore and Hanb). */
const WRITTEN_TOGETHER: Record<string, string[]> = {
  Han: ["Japanese", "Korean", "Han with Bopomofo"],
  Hiragana: ["Japanese"],
  Katakana: ["Japanese"],
  Hangul: ["Korean"],
  Bopomofo: ["Han with Bopomofo"],
};

let scriptTests: [name: string, test: RegExp][] | undefined;

/**
 * Each script's Script_Extensions test, by the engine's own Unicode data (the one NFKC uses);
 * the names come from regenerate-unicode-properties, and a name the engine does not know yet is
 * left out.
 */
function scriptsByName(): [string, RegExp][] {
  if (scriptTests) return scriptTests;
  scriptTests = [];
  for (const name of unicodeProperties.get("Script_Extensions") ?? []) {
    if (name === "Common" || name === "Inherited" || name === "Unknown") continue;
    try {
      scriptTests.push([name.replace(/_/g, " "), new RegExp(`^\\p{scx=${name}}$`, "u")]);
    } catch {
      // A script newer than this JavaScript engine: its characters count as Unknown.
    }
  }
  return scriptTests;
}

/** The scripts a character is written in, with the sets it is written together in. */
function scriptsOf(character: string): string[] {
  const scripts = scriptsByName()
    .filter(([, test]) => test.test(character))
    .flatMap(([name]) => [name, ...(WRITTEN_TOGETHER[name] ?? [])]);
  return scripts.length ? scripts : ["Unknown"];
}

/**
 * Two scripts a name mixes, such as Latin and Cyrillic (`pаypal` with a Cyrillic `а`), or null
 * when one script holds all its letters: TR39's single-script test, where characters of every
 * script go with any, and Han with kana or hangul counts as one (Japanese, Korean).
 */
export function mixedScripts(name: string): [string, string] | null {
  if (ASCII.test(name)) return null;
  let shared: string[] | null = null;
  let first = "";
  for (const character of name) {
    if (ANY_SCRIPT.test(character)) continue;
    const scripts = scriptsOf(character);
    if (shared === null) {
      shared = scripts;
      first = character;
      continue;
    }
    const both: string[] = shared.filter((script) => scripts.includes(script));
    if (both.length === 0) return [scriptsOf(first)[0]!, scripts[0]!];
    shared = both;
  }
  return null;
}

/**
 * The answer to every request but changing the password (and seeing who one is, the sessions,
 * signing out) from an account that must choose a new password: one imported from the original
 * system, whose old password was stored in plain text there.
 */
export function passwordChangeRequired(): AppError {
  return new AppError("FORBIDDEN", "Set a new password first.", { reason: "password_change_required" });
}
