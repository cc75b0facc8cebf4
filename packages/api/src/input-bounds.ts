// The bounds every tRPC request is held to before anything parses, walks or validates its input:
// how many calls one batch may carry, how large the body may be and how deeply it may nest. A
// hostile body (thousands of nested arrays, a hundred searches in one GET) is refused here in
// time linear in its length, before authentication, rate limits or any schema run.
import { AppError } from "@notebox/core";
import { MAX_BATCH_CALLS, MAX_INPUT_DEPTH } from "./limits";

function batchTooLarge(): AppError {
  return new AppError("BAD_REQUEST", `Send at most ${MAX_BATCH_CALLS} calls in one batch.`, {
    reason: "batch_too_large",
  });
}

function inputTooDeep(): AppError {
  return new AppError("BAD_REQUEST", `The input is nested more than ${MAX_INPUT_DEPTH} levels deep.`, {
    reason: "input_too_deep",
  });
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether JSON text nests deeper than the bound. One pass over the characters, brackets inside
 * strings ignored; malformed text is left for the JSON parser to refuse.
 */
function nestsTooDeep(text: string, maxDepth = MAX_INPUT_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/**
 * Refuses a request whose batch or nesting is out of bounds (its body size was bounded by the
 * server's body limit before it was read). `calls` is the number of procedure calls tRPC read
 * from the path; `input` is the request's input as sent (a GET's `input` parameter, a POST's body).
 */
export function assertInputBounded({ input, calls }: { input: string | null; calls: number }): void {
  if (calls > MAX_BATCH_CALLS) throw batchTooLarge();
  if (input && nestsTooDeep(input)) throw inputTooDeep();
}
