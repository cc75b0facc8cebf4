import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isEmailAddress, templates } from "../src";
import { outboxMailer } from "./outbox";

/** Each one would make a mail library read a name, a group, a comment or more than one mailbox. */
const NOT_ONE_ADDRESS = [
  "victim@example.test,attacker@evil.test",
  "victim@example.test, attacker@evil.test",
  "victim@example.test attacker@evil.test",
  "victim@example.test;attacker@evil.test",
  "victim@example.test;",
  "group:attacker@evil.test;",
  "a:b@example.test;",
  "Victim <attacker@evil.test>",
  "<attacker@evil.test>",
  '"attacker@evil.test"@example.test',
  '"a b"@example.test',
  "victim(comment)@example.test",
  "victim@example.test(attacker@evil.test)",
  "victim@[127.0.0.1]",
  "victim\\@evil.test@example.test",
  "victim@example.test\r\nBcc: attacker@evil.test",
  "victim@example.test\nattacker@evil.test",
];

describe("isEmailAddress", () => {
  it("takes one address: a dot-atom of RFC 5322 atext or letters of any script, and a dotted domain", () => {
    for (const address of [
      "a@b.co",
      "First.Last@Example.COM",
      "o'brien+notes@mail.example.test",
      "a!#$%&'*+-/=?^_`{|}~@example.test",
      "用户@例子.广告",
      "नमस्ते@उदाहरण.भारत",
      "Ünïcödé@exämple.de",
      "a@x-y.example",
      "a@1.2.3.4",
    ]) {
      expect(isEmailAddress(address), address).toBe(true);
    }
  });

  it("refuses lists, groups, display names, quotes, comments and domain literals", () => {
    for (const text of NOT_ONE_ADDRESS) expect(isEmailAddress(text), JSON.stringify(text)).toBe(false);
  });

  it("refuses leading, trailing and double dots, bad labels and what no mailbox holds", () => {
    for (const text of [
      "",
      "a",
      "a@b",
      "@example.test",
      "a@",
      ".a@example.test",
      "a.@example.test",
      "a..b@example.test",
      "a@.example.test",
      "a@example..test",
      "a@example.test.",
      "a@-example.test",
      "a@example-.test",
      "a@@example.test",
      "a@b@example.test",
      " a@example.test",
      "a@example.test ",
      "a\u200d@example.test",
      "a\u0000@example.test",
      "😀@example.test",
      `${"a".repeat(65)}@example.test`,
      `a@${"b".repeat(64)}.test`,
      `a@${`${"b".repeat(60)}.`.repeat(5)}test`,
    ]) {
      expect(isEmailAddress(text), JSON.stringify(text)).toBe(false);
    }
    expect(isEmailAddress(`${"a".repeat(64)}@example.test`)).toBe(true);
  });
});

describe("the mailer's recipient", () => {
  it("writes exactly the one address given in the To header (nodemailer lower-cases the domain)", async () => {
    const { dir, mailer } = await outboxMailer();
    await mailer.send(templates.passwordReset("O'Brien@Example.test", "http://x/reset", 60));
    const [file] = await readdir(dir);
    const eml = await readFile(path.join(dir, file!), "utf8");
    expect(eml.match(/^To: .*$/gm)).toEqual(["To: O'Brien@example.test"]);
    expect(eml).not.toMatch(/^(Cc|Bcc):/im);
  });

  it("refuses (throws) a `to` that is not one valid address, and writes nothing", async () => {
    const { dir, mailer } = await outboxMailer();
    for (const to of [...NOT_ONE_ADDRESS, "../../evil@example.test", ""]) {
      await expect(
        mailer.send({ ...templates.passwordReset("x@example.test", "http://x/reset", 60), to }),
        JSON.stringify(to),
      ).rejects.toThrow(/not one valid email address/);
    }
    await expect(readdir(dir)).resolves.toEqual([]);
  });

  it("logs a queued message to a refused address as failed, and sends the others", async () => {
    const { dir, lines, mailer } = await outboxMailer();
    mailer.queue({
      ...templates.passwordReset("x@example.test", "http://x/reset", 60),
      to: "a@example.test,b@example.test",
    });
    mailer.queue(templates.passwordReset("ok@example.test", "http://x/reset", 60));
    await mailer.close();
    expect(await readdir(dir)).toEqual([expect.stringMatching(/ok@example\.test\.eml$/)]);
    expect(lines.some((line) => line.includes("mail failed") && line.includes("not one valid email address"))).toBe(
      true,
    );
  });
});
