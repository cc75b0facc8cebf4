import { describe, expect, it } from "vitest";
import { AppError } from "../src/errors";
import { createFairGate } from "../src/gate";

/** A piece of work that finishes when told to, recording when it started. */
function controlled(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    work: async () => {
      log.push(name);
      await done;
      return name;
    },
    finish: () => finish(),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("createFairGate", () => {
  it("runs at most `concurrency` at once, and the rest in turn as slots free up", async () => {
    const gate = createFairGate({ concurrency: 2, maxQueue: 10, maxPerCaller: 10 });
    const log: string[] = [];
    const works = ["a", "b", "c", "d"].map((name) => controlled(log, name));
    const results = works.map((w) => gate.run({ key: "one", known: true }, w.work));
    await tick();
    expect(log).toEqual(["a", "b"]);
    expect(gate.stats()).toEqual({ active: 2, pending: 2 });
    works[1]!.finish();
    await tick();
    expect(log).toEqual(["a", "b", "c"]);
    works[0]!.finish();
    works[2]!.finish();
    works[3]!.finish();
    expect(await Promise.all(results)).toEqual(["a", "b", "c", "d"]);
    await tick();
    expect(gate.stats()).toEqual({ active: 0, pending: 0 });
  });

  it("serves waiting callers in turn, so one caller's many do not hold up another's one", async () => {
    const gate = createFairGate({ concurrency: 1, maxQueue: 10, maxPerCaller: 10 });
    const log: string[] = [];
    const first = controlled(log, "busy-0");
    const running = [gate.run({ key: "busy", known: true }, first.work)];
    const rest = [1, 2, 3].map((i) => controlled(log, `busy-${i}`));
    running.push(...rest.map((w) => gate.run({ key: "busy", known: true }, w.work)));
    const other = controlled(log, "other");
    running.push(gate.run({ key: "other", known: true }, other.work));
    for (const w of [first, ...rest, other]) w.finish();
    await Promise.all(running);
    expect(log).toEqual(["busy-0", "busy-1", "other", "busy-2", "busy-3"]);
  });

  it("serves known callers before strangers", async () => {
    const gate = createFairGate({ concurrency: 1, maxQueue: 10, maxPerCaller: 10 });
    const log: string[] = [];
    const works = ["first", "stranger", "known"].map((name) => controlled(log, name));
    const running = [
      gate.run({ key: "a" }, works[0]!.work),
      gate.run({ key: "b" }, works[1]!.work),
      gate.run({ key: "c", known: true }, works[2]!.work),
    ];
    for (const w of works) w.finish();
    await Promise.all(running);
    expect(log).toEqual(["first", "known", "stranger"]);
  });

  it("refuses with TOO_MANY_REQUESTS past the queue or one caller's share, and frees failed work's slot", async () => {
    const gate = createFairGate({ concurrency: 1, maxQueue: 2, maxPerCaller: 2 });
    const log: string[] = [];
    const a = controlled(log, "a");
    const b = controlled(log, "b");
    const running = [gate.run({ key: "x" }, a.work), gate.run({ key: "x" }, b.work)];
    const refused = (await gate.run({ key: "x" }, () => Promise.resolve("c")).catch((e: unknown) => e)) as AppError;
    expect(refused).toBeInstanceOf(AppError);
    expect(refused.code).toBe("TOO_MANY_REQUESTS");
    expect(refused.retryAfterSeconds).toBeGreaterThan(0);
    // Another caller still gets a place in the queue, until the queue is full.
    const y = gate.run({ key: "y" }, () => Promise.resolve("y"));
    expect(((await gate.run({ key: "z" }, () => Promise.resolve("z")).catch((e: unknown) => e)) as AppError).code).toBe(
      "TOO_MANY_REQUESTS",
    );
    a.finish();
    b.finish();
    expect(await Promise.all([...running, y])).toEqual(["a", "b", "y"]);
    // Work that throws, even before its first await, fails alone and gives its slot back.
    const thrown = await gate
      .run({ key: "x" }, () => {
        throw new Error("broken");
      })
      .catch((e: unknown) => e);
    expect((thrown as Error).message).toBe("broken");
    expect(await gate.run({ key: "x" }, () => Promise.resolve("after"))).toBe("after");
    await tick();
    expect(gate.stats()).toEqual({ active: 0, pending: 0 });
  });
});
