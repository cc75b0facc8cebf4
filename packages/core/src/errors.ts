// The one error type the domain throws for expected failures; the API layer maps `code` to tRPC
// codes and HTTP statuses. Anything else reaching a client is an unexpected bug.
import { isDatabaseUnavailable } from "@notebox/db";
export type AppErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PAYLOAD_TOO_LARGE"
  | "TOO_MANY_REQUESTS"
  | "SERVICE_UNAVAILABLE";

export const httpStatusOf: Record<AppErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  SERVICE_UNAVAILABLE: 503,
};

export interface AppErrorOptions {
  /** Per-field messages a form shows beside its inputs. */
  fieldErrors?: Record<string, string[]>;
  /** Seconds until a retry may succeed; sent as Retry-After with TOO_MANY_REQUESTS. */
  retryAfterSeconds?: number;
  /** A stable machine-readable reason, e.g. "email_not_verified". */
  reason?: string;
}

export class AppError extends Error {
  readonly fieldErrors?: Record<string, string[]>;
  readonly retryAfterSeconds?: number;
  readonly reason?: string;

  constructor(
    readonly code: AppErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message);
    this.name = "AppError";
    this.fieldErrors = options.fieldErrors;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.reason = options.reason;
  }

  static field(field: string, message: string, code: AppErrorCode = "BAD_REQUEST"): AppError {
    return new AppError(code, message, { fieldErrors: { [field]: [message] } });
  }

  /** The answer while the database cannot be reached: the pool reconnects by itself, so retry soon. */
  static databaseUnavailable(): AppError {
    return new AppError(
      "SERVICE_UNAVAILABLE",
      "Notebox cannot reach its database right now. Try again in a few seconds.",
      {
        retryAfterSeconds: 5,
        reason: "database_unavailable",
      },
    );
  }
}

/**
 * What a failure means to a client, or null for a bug: an AppError as it is, a database that
 * cannot be reached as 503 with Retry-After. tRPC and the plain HTTP routes both answer from this.
 */
export function expectedError(error: unknown): AppError | null {
  if (error instanceof AppError) return error;
  return isDatabaseUnavailable(error) ? AppError.databaseUnavailable() : null;
}
