// The JSON endpoint calls procedures through callProcedure instead of tRPC's own chain: for every
// shape of chain, it must answer what `procedure(opts)` answers, and each middleware must see the
// same options. Run against the tRPC version the lockfile pins, so an upgrade that changes the
// chain's contract fails here.
import { initTRPC, TRPCError, type AnyProcedure } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { callProcedure, type ProcedureCall } from "../src/procedure-call";

interface Ctx {
  user: string | null;
  seen: unknown[];
}

const t = initTRPC.context<Ctx>().meta<{ label: string }>().create({ isDev: false });

/** Records what a middleware is given (all but `next`), for comparing the two calls. */
const recorded = t.middleware(async (opts) => {
  const { next, ...rest } = opts;
  opts.ctx.seen.push({ ...rest, ctx: { user: opts.ctx.user } });
  return next();
});
const signedIn = t.middleware(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
  return next({ ctx: { user: ctx.user, role: ctx.user === "root" ? "admin" : "member" } });
});
const base = t.procedure.use(recorded);

const router = t.router({
  echo: base
    .meta({ label: "echo" })
    .input(z.object({ text: z.string().max(5) }))
    .output(z.object({ text: z.string() }))
    .query(({ input }) => ({ text: input.text.toUpperCase() })),
  whoAmI: base
    .use(signedIn)
    .use(recorded)
    .query(({ ctx }) => ({ user: ctx.user, role: ctx.role })),
  replacedInput: base
    .use(({ next }) => next({ input: { text: "replaced" } }))
    .input(z.object({ text: z.string() }))
    .mutation(({ input }) => input.text),
  rawInput: base
    .use(({ next }) => next({ getRawInput: () => Promise.resolve({ text: "raw from middleware" }) }))
    .input(z.object({ text: z.string() }))
    .query(({ input }) => input.text),
  throws: base.query(() => {
    throw new Error("a bug");
  }),
  badOutput: base.output(z.object({ n: z.number() })).query(() => ({ n: "not a number" }) as unknown as { n: number }),
  forgetsNext: base
    .use((() => Promise.resolve(undefined)) as unknown as Parameters<typeof base.use>[0])
    .query(() => "never"),
});

type Outcome = { data: unknown } | { code: string; message: string; cause: string | undefined };

async function outcomeOf(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { data: await run() };
  } catch (error) {
    const e = error as TRPCError;
    return { code: e.code, message: e.message, cause: e.cause?.constructor.name };
  }
}

/** Both calls with the same options; their outcomes and what their middlewares saw. */
async function both(name: keyof typeof router._def.procedures, input: unknown, user: string | null = "ada") {
  const procedure = router._def.procedures[name] as AnyProcedure;
  const run = async (call: (opts: ProcedureCall) => Promise<unknown>) => {
    const ctx: Ctx = { user, seen: [] };
    const outcome = await outcomeOf(() =>
      call({
        ctx,
        path: name,
        type: procedure._def.type,
        getRawInput: () => Promise.resolve(input),
        signal: undefined,
        batchIndex: 0,
      }),
    );
    return { outcome, seen: JSON.parse(JSON.stringify(ctx.seen)) as unknown };
  };
  const viaTrpc = await run((opts) => (procedure as unknown as (o: ProcedureCall) => Promise<unknown>)(opts));
  const viaCall = await run((opts) => callProcedure(procedure, opts));
  return { viaTrpc, viaCall };
}

describe("callProcedure", () => {
  it.each([
    ["echo", { text: "hi" }, "ada"],
    ["echo", { text: "far too long" }, "ada"],
    ["echo", "not an object", "ada"],
    ["whoAmI", undefined, "root"],
    ["whoAmI", undefined, "ada"],
    ["whoAmI", undefined, null],
    ["replacedInput", { text: "sent" }, "ada"],
    ["rawInput", { text: "sent" }, "ada"],
    ["throws", undefined, "ada"],
    ["badOutput", undefined, "ada"],
    ["forgetsNext", undefined, "ada"],
  ] as const)("%s with %j as %s answers as tRPC's own call", async (name, input, user) => {
    const { viaTrpc, viaCall } = await both(name, input, user);
    expect(viaCall).toEqual(viaTrpc);
  });

  it("answers the data, the refusals and the failures they should be", async () => {
    expect((await both("echo", { text: "hi" })).viaCall.outcome).toEqual({ data: { text: "HI" } });
    expect((await both("echo", { text: "far too long" })).viaCall.outcome).toMatchObject({
      code: "BAD_REQUEST",
      cause: "ZodError",
    });
    expect((await both("whoAmI", undefined, "root")).viaCall.outcome).toEqual({
      data: { user: "root", role: "admin" },
    });
    expect((await both("whoAmI", undefined, null)).viaCall.outcome).toMatchObject({ code: "UNAUTHORIZED" });
    // An input parser reads the raw input again: an `input` handed to next() before it is replaced.
    expect((await both("replacedInput", { text: "sent" })).viaCall.outcome).toEqual({ data: "sent" });
    expect((await both("rawInput", { text: "sent" })).viaCall.outcome).toEqual({ data: "raw from middleware" });
    expect((await both("throws", undefined)).viaCall.outcome).toMatchObject({
      code: "INTERNAL_SERVER_ERROR",
      message: "a bug",
    });
    expect((await both("badOutput", undefined)).viaCall.outcome).toMatchObject({ code: "INTERNAL_SERVER_ERROR" });
    expect((await both("forgetsNext", undefined)).viaCall.outcome).toMatchObject({ code: "INTERNAL_SERVER_ERROR" });
    // The second `recorded` of whoAmI sees the context signedIn added, as tRPC's chain passes it.
    const { seen } = (await both("whoAmI", undefined, "root")).viaCall;
    expect(seen).toHaveLength(2);
    expect(seen).toMatchObject([{ path: "whoAmI", type: "query", batchIndex: 0 }, { path: "whoAmI" }]);
  });
});
