// The one place a failure becomes an HTTP answer outside tRPC (the file and export routes, the
// body limit, anything unexpected): an expected failure keeps its status, reason, field errors and
// Retry-After; a bug is logged and answered 500 without a stack.
import { expectedError, httpStatusOf } from "@notebox/core";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "pino";

function errorBody(code: string, message: string, extra: Record<string, unknown> = {}) {
  return { error: { code, message, ...extra } };
}

export function errorResponse(c: Context, error: unknown, logger: Logger): Response {
  const expected = expectedError(error);
  if (!expected) {
    logger.error({ err: error }, "unexpected error");
    return c.json(errorBody("INTERNAL_SERVER_ERROR", "Something went wrong on our side."), 500);
  }
  if (expected.code === "SERVICE_UNAVAILABLE") logger.warn({ err: error }, "database unavailable");
  if (expected.retryAfterSeconds) c.header("Retry-After", String(expected.retryAfterSeconds));
  // The rest of the body is never read: close the connection rather than reuse it mid-stream.
  if (expected.code === "PAYLOAD_TOO_LARGE") c.header("Connection", "close");
  return c.json(
    errorBody(expected.code, expected.message, {
      reason: expected.reason ?? null,
      fieldErrors: expected.fieldErrors ?? null,
      retryAfterSeconds: expected.retryAfterSeconds ?? null,
    }),
    httpStatusOf[expected.code] as ContentfulStatusCode,
  );
}
