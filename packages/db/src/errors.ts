// Failures that mean "the database cannot be reached right now", as opposed to a bad query: the
// API answers them with 503 and Retry-After, and the connection pool recovers on its own.
import { ConnectionError } from "sequelize";

const UNREACHABLE = new Set([
  "PROTOCOL_CONNECTION_LOST",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ER_SERVER_SHUTDOWN",
  "ER_CON_COUNT_ERROR",
  "ER_CLIENT_INTERACTION_TIMEOUT",
  "SQLITE_BUSY",
]);

export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof ConnectionError) return true;
  const { parent, original, code } = (error ?? {}) as {
    parent?: { code?: string };
    original?: { code?: string };
    code?: string;
  };
  return [parent?.code, original?.code, code].some((c) => c !== undefined && UNREACHABLE.has(c));
}
