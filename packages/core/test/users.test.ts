import { describe, expect, it } from "vitest";
import { checkUsername, isEmailAddress, mixedScripts, usernameKey } from "../src/users";

const problem = (name: string) => checkUsername(name).problem;

describe("checkUsername", () => {
  it("stores the NFKC form without surrounding spaces: fullwidth ａｄｍｉｎ is admin", () => {
    expect(checkUsername("ａｄｍｉｎ_１")).toEqual({ username: "admin_1", problem: null });
    expect(checkUsername("  café\u3000")).toEqual({ username: "café", problem: null });
    // e + combining acute composes to é, a letter.
    expect(checkUsername("cafe\u0301").username).toBe("café");
  });

  it("takes names in any one script, with digits, dots, dashes and underscores", () => {
    for (const name of [
      "alice",
      "Zoë.2",
      "иван_петров",
      "Ελένη-7",
      "山田たろう",
      "ヤマダ_太郎",
      "김민준",
      "李小龍",
      "محمد",
      "דוד",
      "___",
      "123",
    ]) {
      expect(problem(name), name).toBeNull();
    }
  });

  it("refuses a name that mixes scripts, naming them", () => {
    expect(problem("\u0430dmin")).toBe("Use the letters of one script: this name mixes Cyrillic and Latin.");
    expect(problem("p\u0430ypal")).toBe("Use the letters of one script: this name mixes Latin and Cyrillic.");
    expect(problem("admin\u03bf")).toMatch(/mixes Latin and Greek/);
    expect(problem("山田たろう김")).toMatch(/mixes/);
    expect(mixedScripts("abc")).toBeNull();
    expect(mixedScripts("иван")).toBeNull();
  });

  it("refuses what the form refuses, with the form's words", () => {
    expect(problem("ab")).toBe("Use at least 3 characters.");
    expect(problem("   ab   ")).toBe("Use at least 3 characters.");
    expect(problem("a".repeat(33))).toBe("Use at most 32 characters.");
    expect(problem(" ".repeat(10_000))).toBe("Use at most 32 characters.");
    for (const name of ["a b", "a@b", "a,b", "a\u200bb", "a\u0000b", "x😀y", "<script>"]) {
      expect(problem(name), JSON.stringify(name)).toBe("Use only letters, digits, dots, dashes and underscores.");
    }
  });

  it("refuses a name whose key does not fit its column", () => {
    // ǘ is one character, and three once decomposed (u, diaeresis, acute).
    expect(problem("\u01d8".repeat(21))).toBeNull();
    expect(problem("\u01d8".repeat(22))).toBe("Choose a shorter username.");
  });
});

describe("usernameKey", () => {
  it("gives names a person cannot tell apart one key", () => {
    const admin = usernameKey("admin");
    for (const lookalike of [
      "ADMIN",
      "Admin",
      "ａｄｍｉｎ",
      "\u0430dmin",
      "\u0430\u0501min",
      "adrnin",
      "\uff41\uff44\uff4d\uff49\uff4e",
    ]) {
      expect(usernameKey(lookalike), lookalike).toBe(admin);
    }
    expect(usernameKey("straße")).toBe(usernameKey("STRASSE"));
    expect(usernameKey("ΟΔΟΣ")).toBe(usernameKey("οδος"));
    expect(usernameKey("user1")).toBe(usernameKey("userl"));
  });

  it("keeps names that look different apart", () => {
    const keys = ["admin", "admins", "bob", "b0b2", "alice", "alicia", "иван", "ivan"].map(usernameKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("never holds '#', the mark of keys set aside, for any character a username may hold", () => {
    const allowed = /^[\p{L}\p{N}_.-]$/u;
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const character = String.fromCodePoint(cp);
      const name = character.normalize("NFKC");
      if (!allowed.test(character) && ![...name].every((c) => allowed.test(c))) continue;
      if (usernameKey(name).includes("#")) throw new Error(`U+${cp.toString(16)} has a key with '#'`);
    }
  });
});

describe("isEmailAddress (the mail package's rule, as core hands it on)", () => {
  it("takes one address and refuses lists, names and groups", () => {
    expect(isEmailAddress("name@example.com")).toBe(true);
    for (const text of [
      "a@example.com,b@example.com",
      "Name <a@example.com>",
      "g:a@example.com;",
      '"a"@example.com',
      "a(b)@example.com",
    ]) {
      expect(isEmailAddress(text), text).toBe(false);
    }
  });
});
