// A procedure called as tRPC calls it, without the copies of its chain. tRPC's own call
// (`callRecursive`) builds each link's options by copying the previous ones with a generic spread
// helper, three copies for a procedure with one middleware and an input; on notes.get that was
// 18% of the request (bench/list). This walks the same `_def.middlewares` with the same options,
// built as plain objects. The JSON endpoint is one more adapter of tRPC and pins the version it
// follows through the lockfile; test/procedure-call.test.ts checks it answers as `procedure(opts)`
// does for every shape of chain Notebox builds (context added by a middleware, input parsed and
// replaced, a refusal, a throw, a bad input).
import type { AnyProcedure, ProcedureType } from "@trpc/server";
import { TRPCError } from "@trpc/server";
import { getTRPCErrorFromUnknown } from "@trpc/server/unstable-core-do-not-import";

export interface ProcedureCall {
  ctx: unknown;
  path: string;
  type: ProcedureType;
  getRawInput: () => Promise<unknown>;
  signal: AbortSignal | undefined;
  batchIndex: number;
}

/** What one link of the chain answers: tRPC's middleware result. */
type Outcome = { ok: true; data: unknown } | { ok: false; error: TRPCError };

/** Options a middleware may hand to `next`. */
interface NextOptions {
  ctx?: Record<string, unknown>;
  input?: unknown;
  getRawInput?: () => Promise<unknown>;
}

type Middleware = (opts: Record<string, unknown>) => Promise<Outcome | undefined>;

/** The procedure's answer, or the TRPCError it failed with (thrown), as `procedure(call)` would. */
export async function callProcedure(procedure: AnyProcedure, call: ProcedureCall): Promise<unknown> {
  const def = procedure._def as unknown as { middlewares: Middleware[]; meta: unknown };
  const { middlewares, meta } = def;
  const link = async (
    index: number,
    ctx: unknown,
    input: unknown,
    getRawInput: () => Promise<unknown>,
  ): Promise<Outcome | undefined> => {
    try {
      return await middlewares[index]!({
        ctx,
        type: call.type,
        path: call.path,
        input,
        getRawInput,
        meta,
        signal: call.signal,
        batchIndex: call.batchIndex,
        next: (options?: NextOptions) =>
          link(
            index + 1,
            options?.ctx ? { ...(ctx as Record<string, unknown>), ...options.ctx } : ctx,
            options && "input" in options ? options.input : input,
            options?.getRawInput ?? getRawInput,
          ),
      });
    } catch (cause) {
      return { ok: false, error: getTRPCErrorFromUnknown(cause) };
    }
  };
  const outcome = await link(0, call.ctx, undefined, call.getRawInput);
  if (!outcome) {
    throw new TRPCError({
      code: "INTERNAL_SERVER_ERROR",
      message: "No result from middlewares - did you forget to `return next()`?",
    });
  }
  if (!outcome.ok) throw outcome.error;
  return outcome.data;
}
