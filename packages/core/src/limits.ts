// Rate limits on rate-limiter-flexible: in-process by default, shared through Redis when
// REDIS_URL is set (with an in-process insurance limiter so a Redis outage never blocks sign-in).
// In a cluster's worker (WORKERS > 1) "in-process" means the primary's memory, which every worker
// asks over IPC (RateLimiterCluster), so a limit holds across the workers instead of per worker.
import type { Redis } from "ioredis";
import {
  RateLimiterCluster,
  RateLimiterClusterMaster,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from "rate-limiter-flexible";
import { AppError } from "./errors";

export interface LimitRule {
  points: number;
  /** Window in seconds. */
  duration: number;
}

/**
 * Sign-in throttling never lets a stranger lock an owner out. A browser that signed in to the
 * account before (its signed device cookie) counts only its own failures. Anyone else is counted
 * per address, per (account, address), and per account only past a threshold ten times higher,
 * so guessing from many addresses slows new devices down without stopping known ones.
 */
export const defaultLimitRules = {
  /** Sign-in attempts from one address without a known device: its share of the hashing. */
  loginPerIp: { points: 100, duration: 15 * 60 },
  /** Failed sign-ins from one address, whatever the account. */
  loginFailuresPerIp: { points: 30, duration: 15 * 60 },
  /** Failed sign-ins to one account from one address. */
  loginFailuresPerAccountIp: { points: 10, duration: 15 * 60 },
  /** Failed sign-ins to one account from unknown devices, from any address. */
  loginFailuresPerAccount: { points: 100, duration: 15 * 60 },
  /** Failed sign-ins from one known device (a stolen device cookie buys no more guesses). */
  loginFailuresPerDevice: { points: 10, duration: 15 * 60 },
  /** Two-factor settings changes (each checks a code) by one account. */
  secondFactorPerAccount: { points: 10, duration: 15 * 60 },
  /** Wrong current passwords given to auth.changePassword by one session. */
  passwordChecksPerSession: { points: 10, duration: 15 * 60 },
  /** Email-code attempts from one address (each code also dies after 5 wrong tries). */
  codeAttemptsPerIp: { points: 30, duration: 15 * 60 },
  /** Sign-ups and reset requests from one address. */
  accountRequestsPerIp: { points: 20, duration: 60 * 60 },
  /** Mail to one address: codes, reset links, "account exists" notices. */
  mailPerAddressMinute: { points: 1, duration: 60 },
  mailPerAddressHour: { points: 5, duration: 60 * 60 },
  /** Exports by one user: each reads every note, so they are few and far between. */
  exportsPerUser: { points: 10, duration: 60 },
} satisfies Record<string, LimitRule>;

export type LimitName = keyof typeof defaultLimitRules;
export type LimitRules = Record<LimitName, LimitRule>;

/** What a reserved attempt gives back when it succeeds. */
export type OnSuccess = "refund" | "reset" | "keep";

export interface Reservation {
  /** The attempt succeeded: refund or reset each counter as it was reserved. */
  succeeded(): Promise<void>;
}

export interface Limits {
  /** Counts one hit; throws 429 with Retry-After when the window is used up. */
  consume(name: LimitName, key: string, points?: number): Promise<void>;
  /** Throws 429 when the window is already used up, without counting. */
  check(name: LimitName, key: string): Promise<void>;
  reset(name: LimitName, key: string): Promise<void>;
  /**
   * Counts an attempt as failed before it is checked, on every counter at once: parallel
   * attempts each take their point atomically, so they cannot outrun the limit. When one
   * counter is used up, the points taken from the others are given back and 429 is thrown.
   */
  reserve(counters: { name: LimitName; key: string; onSuccess: OnSuccess }[]): Promise<Reservation>;
}

export interface LimitsOptions {
  rules?: Partial<LimitRules>;
  redis?: Redis;
  /** Key namespace, so tests and several deployments can share one Redis. */
  prefix?: string;
  onStoreError?: (error: unknown) => void;
  /** This process is a node:cluster worker: counts live in the primary, which runs `serveClusterLimits`. */
  clusterWorker?: boolean;
}

/** How long a worker waits for the primary's count; past it the attempt goes through (see consume). */
const CLUSTER_TIMEOUT_MS = 2_000;

export function createLimits({
  rules = {},
  redis,
  prefix = "nb",
  onStoreError,
  clusterWorker = false,
}: LimitsOptions = {}): Limits {
  const merged: LimitRules = { ...defaultLimitRules, ...rules };
  const limiters = new Map<LimitName, RateLimiterAbstract>();
  for (const [name, rule] of Object.entries(merged) as [LimitName, LimitRule][]) {
    const keyPrefix = `${prefix}:rl:${name}`;
    const local = clusterWorker
      ? new RateLimiterCluster({ ...rule, keyPrefix, timeoutMs: CLUSTER_TIMEOUT_MS })
      : new RateLimiterMemory({ ...rule, keyPrefix });
    limiters.set(
      name,
      redis
        ? new RateLimiterRedis({
            ...rule,
            keyPrefix,
            storeClient: redis,
            insuranceLimiter: local,
            rejectIfRedisNotReady: true,
          })
        : local,
    );
  }
  const limiter = (name: LimitName) => limiters.get(name)!;
  const tooMany = (res: RateLimiterRes) =>
    new AppError("TOO_MANY_REQUESTS", "Too many attempts. Wait a little and try again.", {
      retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
    });

  const reset = async (name: LimitName, key: string) => {
    try {
      await limiter(name).delete(key);
    } catch (error) {
      onStoreError?.(error);
    }
  };
  const refund = async (name: LimitName, key: string) => {
    try {
      await limiter(name).reward(key, 1);
    } catch (error) {
      onStoreError?.(error);
    }
  };

  return {
    async consume(name, key, points = 1) {
      try {
        await limiter(name).consume(key, points);
      } catch (error) {
        if (error instanceof RateLimiterRes) throw tooMany(error);
        onStoreError?.(error); // the store failed and insurance did too: let the request through
      }
    },
    async check(name, key) {
      let res: RateLimiterRes | null;
      try {
        res = await limiter(name).get(key);
      } catch (error) {
        onStoreError?.(error);
        return;
      }
      if (res && res.consumedPoints >= merged[name].points) throw tooMany(res);
    },
    reset,
    async reserve(counters) {
      const taken: typeof counters = [];
      for (const counter of counters) {
        try {
          await limiter(counter.name).consume(counter.key, 1);
          taken.push(counter);
        } catch (error) {
          if (!(error instanceof RateLimiterRes)) {
            onStoreError?.(error);
            continue;
          }
          await Promise.all(taken.map((c) => refund(c.name, c.key)));
          throw tooMany(error);
        }
      }
      return {
        succeeded: async () => {
          await Promise.all(
            taken.map(async (c) => {
              if (c.onSuccess === "reset") await reset(c.name, c.key);
              else if (c.onSuccess === "refund") await refund(c.name, c.key);
            }),
          );
        },
      };
    },
  };
}

/**
 * The primary's side of the workers' limits: one in-memory counter per rule, created when the
 * first worker asks for it (with that worker's rules), and kept while workers come and go.
 */
export function serveClusterLimits(): void {
  // The constructor subscribes to the workers' messages; the instance is a process-wide singleton.
  new RateLimiterClusterMaster();
}
