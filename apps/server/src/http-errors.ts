// The one place a failure becomes an HTTP answer outside tRPC (the file and export routes, the
// body limit, anything unexpected): an expected failure keeps its status, reason, field errors and
// Retry-After; a bug is logged and answered 500 without a stack.
import { AppError, expectedError, httpStatusOf } from "@notebox/core";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "pino";

/** A request body over MAX_BODY_BYTES, on either way in. */
export const requestTooLarge = () => new AppError("PAYLOAD_TOO_LARGE", "The request is too large.");

function errorBody(code: string, message: string, extra: Record<string, unknown> = {}) {
  return { error: { code, message, ...extra } };
}

/** A failure as the status, headers and JSON body it is answered with. */
export function errorAnswer(
  error: unknown,
  logger: Logger,
): { status: ContentfulStatusCode; headers: Record<string, string>; body: ReturnType<typeof errorBody> } {
  const expected = expectedError(error);
  if (!expected) {
    logger.error({ err: error }, "unexpected error");
    return { status: 500, headers: {}, body: errorBody("INTERNAL_SERVER_ERROR", "Something went wrong on our side.") };
  }
  if (expected.code === "SERVICE_UNAVAILABLE") logger.warn({ err: error }, "database unavailable");
  const headers: Record<string, string> = {};
  if (expected.retryAfterSeconds) headers["Retry-After"] = String(expected.retryAfterSeconds);
  // The rest of the body is never read: close the connection rather than reuse it mid-stream.
  if (expected.code === "PAYLOAD_TOO_LARGE") headers["Connection"] = "close";
  return {
    status: httpStatusOf[expected.code] as ContentfulStatusCode,
    headers,
    body: errorBody(expected.code, expected.message, {
      reason: expected.reason ?? null,
      fieldErrors: expected.fieldErrors ?? null,
      retryAfterSeconds: expected.retryAfterSeconds ?? null,
    }),
  };
}

export function errorResponse(c: Context, error: unknown, logger: Logger): Response {
  const { status, headers, body } = errorAnswer(error, logger);
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  return c.json(body, status);
}
