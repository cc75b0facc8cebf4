// A few slots for costly work (password hashes, searches), shared fairly: whoever asks waits for a
// slot in the process instead of piling onto the cores or the database's connections, and one
// caller asking many times at once cannot make everyone else wait behind it.
import { AppError } from "./errors";

/**
 * Whose share a request is. Strangers are served in turn by `key` (say, a client address), so a
 * flood from a few keys cannot push everyone else to the back of one long queue; known callers
 * (a known device, a signed-in owner) are served before strangers.
 */
export interface GateCaller {
  key: string;
  known?: boolean;
}

export interface GateOptions {
  /** Work running at once. */
  concurrency: number;
  /** Waiting work beyond this is refused with 429 rather than queued for seconds. */
  maxQueue: number;
  /** Work one caller may have running or waiting; more is refused with 429 at once. */
  maxPerCaller: number;
}

export interface FairGate {
  run<T>(caller: GateCaller, work: () => Promise<T>): Promise<T>;
  stats(): { active: number; pending: number };
}

const busy = () =>
  new AppError("TOO_MANY_REQUESTS", "The server is busy. Try again in a moment.", { retryAfterSeconds: 2 });

/**
 * A gate of `concurrency` slots with fair queueing: known callers first, then strangers one
 * caller at a time in turn (round robin), each caller holding at most `maxPerCaller` places.
 */
export function createFairGate({ concurrency, maxQueue, maxPerCaller }: GateOptions): FairGate {
  type Task = () => void;
  const lanes = { known: new Map<string, Task[]>(), strangers: new Map<string, Task[]>() };
  const held = new Map<string, number>();
  let active = 0;
  let waiting = 0;

  const start = () => {
    while (active < concurrency) {
      const lane = lanes.known.size ? lanes.known : lanes.strangers.size ? lanes.strangers : null;
      if (!lane) return;
      const [key, tasks] = lane.entries().next().value!;
      const task = tasks.shift()!;
      // The caller goes to the back of the turn order, with whatever it still has waiting.
      lane.delete(key);
      if (tasks.length) lane.set(key, tasks);
      waiting--;
      active++;
      task();
    }
  };

  return {
    run<T>(caller: GateCaller, work: () => Promise<T>): Promise<T> {
      const key = `${caller.known ? "known" : "stranger"}:${caller.key}`;
      const mine = held.get(key) ?? 0;
      if (waiting >= maxQueue || mine >= maxPerCaller) return Promise.reject(busy());
      held.set(key, mine + 1);
      return new Promise<T>((resolve, reject) => {
        const task = () => {
          // A throw before the work's first await is its failure too, and frees the slot.
          new Promise<T>((done) => done(work())).then(resolve, reject).finally(() => {
            active--;
            const left = held.get(key)! - 1;
            if (left) held.set(key, left);
            else held.delete(key);
            start();
          });
        };
        const lane = caller.known ? lanes.known : lanes.strangers;
        const tasks = lane.get(key);
        if (tasks) tasks.push(task);
        else lane.set(key, [task]);
        waiting++;
        start();
      });
    },
    stats: () => ({ active, pending: waiting }),
  };
}
