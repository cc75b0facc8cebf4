// Opaque cursors for keyset pagination: the last row's sort key, base64url-encoded JSON.
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

/** Escapes LIKE wildcards so what a person types is matched literally. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
