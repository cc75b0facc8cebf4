// Opaque cursors for keyset pagination: the last row's sort key, base64url-encoded JSON.
import { LIKE_ESCAPE, likePattern, literal, Op, type Sequelize } from "@notebox/db";
import { AppError } from "./errors";

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function encodeCursor(key: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

export function decodeCursor<K extends Record<string, string | number>>(
  cursor: string | null | undefined,
  isKey: (value: unknown) => value is K,
): K | null {
  if (!cursor) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (isKey(value)) return value;
  } catch {
    // fall through
  }
  throw AppError.field("cursor", "This page link is no longer valid. Start from the first page.");
}

/** The last row's sort value (a string or an ISO date) and its id. */
export type KeyCursor = {
  v: string;
  id: string;
};

const isKeyCursor = (x: unknown): x is KeyCursor =>
  typeof x === "object" &&
  x !== null &&
  typeof (x as KeyCursor).v === "string" &&
  typeof (x as KeyCursor).id === "string";

export function decodeKeyCursor(cursor: string | null | undefined): KeyCursor | null {
  return decodeCursor(cursor, isKeyCursor);
}

/** The rows after (`value`, `id`) in (`column`, id) order: the condition for the next page. */
export function keysetAfter(column: string, value: string | Date, id: string, descending: boolean) {
  const beyond = descending ? Op.lt : Op.gt;
  return { [Op.or]: [{ [column]: { [beyond]: value } }, { [column]: value, id: { [beyond]: id } }] };
}

/**
 * `column LIKE '%text%'` with the wildcards in `text` matched literally. The escape character is
 * `!` because a backslash means different things in MySQL and SQLite string literals.
 */
export function likeContains(sequelize: Sequelize, column: string, text: string) {
  return literal(
    `${sequelize.getQueryInterface().quoteIdentifier(column)} LIKE ${sequelize.escape(likePattern(text))} ${LIKE_ESCAPE}`,
  );
}
