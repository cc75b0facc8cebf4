import { describe, expect, it } from "vitest";
import { AppError } from "../src/errors";
import { availableParallelism } from "node:os";
import {
  createPasswordHasher,
  defaultHashConcurrency,
  PASSWORD_MAX,
  PASSWORD_MIN,
  passwordProblem,
} from "../src/passwords";

const ARGON2ID_PREFIX = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

describe("passwordProblem", () => {
  it("has the documented bounds", () => {
    expect(PASSWORD_MIN).toBe(8);
    expect(PASSWORD_MAX).toBe(128);
  });

  it("refuses fewer than 8 characters and accepts exactly 8", () => {
    expect(passwordProblem("")).toMatch(/at least 8/);
    expect(passwordProblem("zq8#kLm")).toMatch(/at least 8/);
    expect(passwordProblem("zq8#kLm2")).toBeNull();
  });

  it("refuses more than 128 characters and accepts exactly 128", () => {
    const at128 = "plum ".repeat(25) + "fig";
    expect([...at128]).toHaveLength(128);
    expect(passwordProblem(at128)).toBeNull();
    expect(passwordProblem(`${at128}s`)).toMatch(/at most 128/);
    expect(passwordProblem("x".repeat(1_000_000))).toMatch(/at most 128/);
  });

  it("counts characters (code points), not UTF-16 units", () => {
    expect(passwordProblem("🌙".repeat(7))).toMatch(/at least 8/); // 14 code units, 7 characters
    expect(passwordProblem("🌙🚣🔥🐉🌵🏜🎈🧭")).toBeNull();
    expect(passwordProblem("🌙".repeat(128))).toBeNull();
    expect(passwordProblem("🌙".repeat(129))).toMatch(/at most 128/);
  });

  it.for(["qwertyuiop", "iloveyou", "password", "12345678", "password123", "dragon!!", "Letmein2024"])(
    "refuses the common password %s",
    (common) => {
      expect(passwordProblem(common)).toMatch(/too common/);
    },
  );

  it("refuses the email address or the username, whatever the case", () => {
    const personal = ["alice.liddell@example.com", "alice_liddell"];
    expect(passwordProblem("alice.liddell@example.com", personal)).toMatch(/email address or username/);
    expect(passwordProblem("ALICE.Liddell@Example.com", personal)).toMatch(/email address or username/);
    expect(passwordProblem("alice_liddell", personal)).toMatch(/email address or username/);
    expect(passwordProblem("alice_liddell in wonderland", personal)).toBeNull();
    expect(passwordProblem("alice_liddell", ["", "bob"])).toBeNull();
  });

  it("accepts a long passphrase and emoji passphrases, with no composition rules", () => {
    expect(passwordProblem("correct horse battery staple on a summer afternoon")).toBeNull();
    expect(passwordProblem("🌙 moon river 🚣 wider than a mile")).toBeNull();
    expect(passwordProblem("lowercase only words here")).toBeNull();
  });
});

describe("createPasswordHasher", () => {
  it("produces Argon2id m=19456 t=2 p=1 hashes that verify, salted", async () => {
    const hasher = createPasswordHasher();
    const password = "🌙 moon river 🚣 wider than a mile";
    const hash = await hasher.hash(password);
    expect(hash).toMatch(ARGON2ID_PREFIX);
    expect(hash).not.toContain(password);
    expect(await hasher.verify(hash, password)).toBe(true);
    expect(await hasher.verify(hash, `${password} `)).toBe(false);
    expect(await hasher.hash(password)).not.toBe(hash);
  });

  it("treats a malformed stored hash as a wrong password, and the dummy verify is always false", async () => {
    const hasher = createPasswordHasher();
    expect(await hasher.verify("not-a-hash", "whatever1")).toBe(false);
    expect(await hasher.verify("", "whatever1")).toBe(false);
    expect(await hasher.verifyDummy("notebox-dummy-password")).toBe(false);
    expect(await hasher.verifyDummy("anything at all")).toBe(false);
  });

  it("defaults to at most 2 hashes at once, and to fewer than the cores", () => {
    expect(defaultHashConcurrency).toBeGreaterThanOrEqual(1);
    expect(defaultHashConcurrency).toBeLessThanOrEqual(2);
    expect(defaultHashConcurrency).toBeLessThanOrEqual(Math.max(1, availableParallelism() - 1));
  });

  it("never runs more than 2 hashes at once", async () => {
    const hasher = createPasswordHasher({ concurrency: 2 });
    let maxActive = 0;
    let maxPending = 0;
    const sample = () => {
      const { active, pending } = hasher.stats();
      maxActive = Math.max(maxActive, active);
      maxPending = Math.max(maxPending, pending);
    };
    const running = Array.from({ length: 6 }, (_, i) => hasher.hash(`concurrent password ${i}`));
    sample();
    const timer = setInterval(sample, 1);
    const hashes = await Promise.all(running);
    clearInterval(timer);
    sample();
    expect(hashes).toHaveLength(6);
    for (const h of hashes) expect(h).toMatch(ARGON2ID_PREFIX);
    expect(maxActive).toBe(2);
    expect(maxPending).toBe(4);
    expect(hasher.stats()).toEqual({ active: 0, pending: 0 });
  });

  it("refuses with TOO_MANY_REQUESTS once the queue is full, and recovers when it drains", async () => {
    const hasher = createPasswordHasher({ concurrency: 2, maxQueue: 3 });
    // 2 running + 3 waiting fill it.
    const accepted = Array.from({ length: 5 }, (_, i) => hasher.hash(`queued password ${i}`));
    expect(hasher.stats()).toEqual({ active: 2, pending: 3 });

    const refused = await hasher.hash("one too many").then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe("TOO_MANY_REQUESTS");
    expect((refused as AppError).retryAfterSeconds).toBeGreaterThan(0);
    // verify and the dummy verify go through the same gate
    await expect(hasher.verify("x", "y")).rejects.toMatchObject({ code: "TOO_MANY_REQUESTS" });
    await expect(hasher.verifyDummy("y")).rejects.toMatchObject({ code: "TOO_MANY_REQUESTS" });

    for (const h of await Promise.all(accepted)) expect(h).toMatch(ARGON2ID_PREFIX);
    expect(await hasher.hash("after the queue drained")).toMatch(ARGON2ID_PREFIX);
  });
});
