// Opaque cursors for keyset pagination: the last row's sort key, base64url-encoded JSON.
import { literal, type Sequelize } from "@notebox/db";
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

/**
 * `column LIKE '%text%'` with the wildcards in `text` matched literally. The escape character is
 * `!` because a backslash means different things in MySQL and SQLite string literals.
 */
export function likeContains(sequelize: Sequelize, column: string, text: string) {
  const pattern = `%${text.replace(/[!%_]/g, (c) => `!${c}`)}%`;
  return literal(`${sequelize.getQueryInterface().quoteIdentifier(column)} LIKE ${sequelize.escape(pattern)} ESCAPE '!'`);
}
