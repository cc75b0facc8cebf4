// Rate limits on rate-limiter-flexible: in-process by default, shared through Redis when
// REDIS_URL is set (with an in-memory insurance limiter so a Redis outage never blocks sign-in).
import type { Redis } from "ioredis";
import {
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

export const defaultLimitRules = {
  /** Every sign-in attempt from one address. */
  loginPerIp: { points: 30, duration: 15 * 60 },
  /** Failed sign-ins (and wrong current passwords) against one account. */
  loginFailuresPerAccount: { points: 10, duration: 15 * 60 },
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

export interface Limits {
  /** Counts one hit; throws 429 with Retry-After when the window is used up. */
  consume(name: LimitName, key: string, points?: number): Promise<void>;
  /** Throws 429 when the window is already used up, without counting. */
  check(name: LimitName, key: string): Promise<void>;
  reset(name: LimitName, key: string): Promise<void>;
}

export interface LimitsOptions {
  rules?: Partial<LimitRules>;
  redis?: Redis;
  /** Key namespace, so tests and several deployments can share one Redis. */
  prefix?: string;
  onStoreError?: (error: unknown) => void;
}

export function createLimits({ rules = {}, redis, prefix = "nb", onStoreError }: LimitsOptions = {}): Limits {
  const merged: LimitRules = { ...defaultLimitRules, ...rules };
  const limiters = new Map<LimitName, RateLimiterAbstract>();
  for (const [name, rule] of Object.entries(merged) as [LimitName, LimitRule][]) {
    const keyPrefix = `${prefix}:rl:${name}`;
    const memory = new RateLimiterMemory({ ...rule, keyPrefix });
    limiters.set(
      name,
      redis
        ? new RateLimiterRedis({
            ...rule,
            keyPrefix,
            storeClient: redis,
            insuranceLimiter: memory,
            rejectIfRedisNotReady: true,
          })
        : memory,
    );
  }
  const limiter = (name: LimitName) => limiters.get(name)!;
  const tooMany = (res: RateLimiterRes) =>
    new AppError("TOO_MANY_REQUESTS", "Too many attempts. Wait a little and try again.", {
      retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
    });

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
    async reset(name, key) {
      try {
        await limiter(name).delete(key);
      } catch (error) {
        onStoreError?.(error);
      }
    },
  };
}
