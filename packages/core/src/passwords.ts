// Argon2id hashing behind a small, fair concurrency gate: each hash takes ~19 MiB and tens of ms
// of a core, so a login flood must queue here instead of starving every other request, and one
// flooding client must not make everyone else wait behind it.
import { availableParallelism } from "node:os";
import { hash, verify } from "@node-rs/argon2";
import { readFileSync } from "node:fs";
import { AppError } from "./errors";
import { createFairGate, type GateCaller, type GateOptions } from "./gate";

// Algorithm.Argon2id is a const enum in the binding's typings, which isolatedModules cannot inline.
const ARGON2ID = 2;
const argon2Params = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 };

/**
 * The 10,000 most common passwords, lower-case (common-passwords.txt, next to this file in the
 * sources and to the bundle in dist/, which the server's build copies it to).
 */
const COMMON_PASSWORDS = new Set(
  readFileSync(new URL("./common-passwords.txt", import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line && !line.startsWith("#")),
);
const isCommon = (password: string) => COMMON_PASSWORDS.has(password.toLowerCase());

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

/** Whose share of the hashing a request is: by client address, or a known device or signed-in owner. */
export type HashCaller = GateCaller;

/** Password checks made inside a turn the caller already holds. */
export interface PasswordCheck {
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** Spends the same time as a real verify, for unknown accounts. Always false. */
  verifyDummy(password: string): Promise<false>;
}

export interface PasswordHasher extends PasswordCheck {
  hash(password: string, caller?: HashCaller): Promise<string>;
  verify(passwordHash: string, password: string, caller?: HashCaller): Promise<boolean>;
  verifyDummy(password: string, caller?: HashCaller): Promise<false>;
  /**
   * Runs `work` in one turn of the gate: it checks passwords with `check` and may finish what
   * the check decides (a sign-in's session write) before the turn passes. A flood of correct
   * sign-ins then waits here, where known callers go first, and not in the database's queue
   * of writes behind everyone else.
   */
  withTurn<T>(caller: HashCaller, work: (check: PasswordCheck) => Promise<T>): Promise<T>;
  stats(): { active: number; pending: number };
}

export type PasswordHasherOptions = Partial<GateOptions>;

/**
 * At most two hashes at once, and never all the cores: on a 2-core machine two hashes would take
 * both, and every other request would wait behind them.
 */
export const defaultHashConcurrency = Math.min(2, Math.max(1, availableParallelism() - 1));

/** Callers without a request (the command line) share one turn among strangers. */
const LOCAL: HashCaller = { key: "local" };

export function createPasswordHasher({
  concurrency = defaultHashConcurrency,
  maxQueue = 200,
  maxPerCaller = 8,
}: PasswordHasherOptions = {}): PasswordHasher {
  const gate = createFairGate({ concurrency, maxQueue, maxPerCaller });
  let dummyHash: Promise<string> | undefined;
  const check: PasswordCheck = {
    async verify(passwordHash, password) {
      try {
        return await verify(passwordHash, password);
      } catch {
        return false; // a malformed stored hash never signs anyone in
      }
    },
    async verifyDummy(password) {
      dummyHash ??= hash("notebox-dummy-password", argon2Params);
      await verify(await dummyHash, password);
      return false;
    },
  };
  return {
    hash: (password, caller = LOCAL) => gate.run(caller, () => hash(password, argon2Params)),
    verify: (passwordHash, password, caller = LOCAL) => gate.run(caller, () => check.verify(passwordHash, password)),
    verifyDummy: (password, caller = LOCAL) => gate.run(caller, () => check.verifyDummy(password)),
    withTurn: (caller, work) => gate.run(caller, () => work(check)),
    stats: () => gate.stats(),
  };
}

/** Length and the common-password list; no composition rules (NIST SP 800-63B). */
export function passwordProblem(password: string, personal: string[] = []): string | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN) return `Use at least ${PASSWORD_MIN} characters.`;
  if (length > PASSWORD_MAX) return `Use at most ${PASSWORD_MAX} characters.`;
  // "password123" and "dragon!!" are the common word with the usual short suffix.
  const stem = /^(.*?)[\d\W_]{1,4}$/u.exec(password)?.[1] ?? "";
  if (isCommon(password) || (stem.length >= 4 && isCommon(stem))) {
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
