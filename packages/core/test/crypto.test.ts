import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { constantTimeEqualHex, generateCode, generateToken, hashCode, hashToken } from "../src/crypto";

describe("generateCode", () => {
  it("is always six digits, zero-padded", () => {
    for (let i = 0; i < 20_000; i++) expect(generateCode()).toMatch(/^\d{6}$/);
  });

  it("is roughly uniform in every position over 20,000 draws", () => {
    const draws = 20_000;
    const counts = Array.from({ length: 6 }, () => new Array<number>(10).fill(0));
    const seen = new Set<string>();
    for (let i = 0; i < draws; i++) {
      const code = generateCode();
      seen.add(code);
      for (let p = 0; p < 6; p++) counts[p]![Number(code[p])]! += 1;
    }
    // Each digit is expected 2,000 times per position (standard deviation about 42): the bounds
    // are loose enough never to flake, and tight enough to catch a missing zero-padding, a
    // modulo bias toward low digits, or a fixed position.
    for (const [p, perDigit] of counts.entries()) {
      for (const [digit, n] of perDigit.entries()) {
        expect(n, `digit ${digit} at position ${p}`).toBeGreaterThan(1_600);
        expect(n, `digit ${digit} at position ${p}`).toBeLessThan(2_400);
      }
    }
    // 20,000 draws from a million values repeat about 200 times; a weak generator repeats far more.
    expect(seen.size).toBeGreaterThan(19_500);
  });
});

describe("generateToken", () => {
  it("is 32 characters of lower-case base32 (20 random bytes)", () => {
    for (let i = 0; i < 1_000; i++) expect(generateToken()).toMatch(/^[a-z2-7]{32}$/);
  });

  it("never repeats over 50,000 draws and uses the whole alphabet", () => {
    const tokens = new Set<string>();
    const alphabet = new Set<string>();
    for (let i = 0; i < 50_000; i++) {
      const token = generateToken();
      tokens.add(token);
      for (const ch of token) alphabet.add(ch);
    }
    expect(tokens.size).toBe(50_000);
    expect(alphabet.size).toBe(32);
  });
});

describe("hashToken", () => {
  it("is the hex sha256 of the token, and deterministic", () => {
    const token = generateToken();
    const hash = hashToken(token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(createHash("sha256").update(token).digest("hex"));
    expect(hashToken(token)).toBe(hash);
    expect(hash).not.toContain(token);
  });

  it("differs for different tokens", () => {
    expect(hashToken("a".repeat(32))).not.toBe(hashToken(`${"a".repeat(31)}b`));
  });
});

describe("hashCode", () => {
  const secret = "x".repeat(48);

  it("is a deterministic hex digest that does not contain the code", () => {
    const h = hashCode(secret, "a@example.test", "123456");
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(hashCode(secret, "a@example.test", "123456")).toBe(h);
    expect(h).not.toContain("123456");
  });

  it("depends on the server secret, so a leaked table alone cannot be brute-forced", () => {
    const a = hashCode(secret, "a@example.test", "123456");
    const b = hashCode("y".repeat(48), "a@example.test", "123456");
    expect(a).not.toBe(b);
    expect(a).not.toBe(createHash("sha256").update("123456").digest("hex"));
  });

  it("depends on the address and on the code", () => {
    const base = hashCode(secret, "a@example.test", "123456");
    expect(hashCode(secret, "b@example.test", "123456")).not.toBe(base);
    expect(hashCode(secret, "a@example.test", "123457")).not.toBe(base);
    // The parts are separated, so moving characters between them changes the hash.
    expect(hashCode(secret, "a@example.test1", "23456")).not.toBe(base);
  });
});

describe("constantTimeEqualHex", () => {
  it("compares hex digests", () => {
    const h = hashToken("token");
    expect(constantTimeEqualHex(h, h)).toBe(true);
    expect(constantTimeEqualHex(h, hashToken("other"))).toBe(false);
    expect(constantTimeEqualHex(h, h.slice(0, 62))).toBe(false);
    expect(constantTimeEqualHex(h, "")).toBe(false);
  });
});
