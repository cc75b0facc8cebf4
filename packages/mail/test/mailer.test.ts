import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { templates } from "../src";
import { outboxMailer } from "./outbox";

describe("mail without SMTP", () => {
  it("writes each message to the outbox as .eml and logs its text, so a newcomer can read the code", async () => {
    const { dir, lines, mailer } = await outboxMailer();
    await mailer.send(templates.verificationCode("new@example.test", "042917", 10, { username: "newcomer" }));
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/new@example\.test\.eml$/);
    const eml = await readFile(path.join(dir, files[0]!), "utf8");
    expect(eml).toMatch(/^To: new@example\.test$/m);
    expect(eml).toMatch(/Subject: Your Notebox code: 042917/);
    expect(lines.join("\n")).toContain("042917");
  });

  it("waits for queued messages on close", async () => {
    const { dir, mailer } = await outboxMailer();
    mailer.queue(templates.passwordReset("a@example.test", "http://localhost:3000/reset-password#token=abc", 60));
    mailer.queue(templates.accountExists("b@example.test", "http://x/sign-in", "http://x/forgot-password"));
    await mailer.close();
    expect(await readdir(dir)).toHaveLength(2);
  });

  it("keeps an address's slashes out of the outbox path", async () => {
    const { dir, mailer } = await outboxMailer();
    // `/` is atext: a valid address may hold one.
    await mailer.send({ ...templates.passwordReset("x@example.test", "http://x/reset", 60), to: "a/b/c@example.test" });
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).not.toContain("/");
  });
});

describe("templates", () => {
  it("escapes what they interpolate into HTML", () => {
    const message = templates.passwordReset("a@example.test", 'http://x/"><script>alert(1)</script>', 60);
    expect(message.html).not.toContain("<script>");
    expect(message.html).toContain("&lt;script&gt;");
    expect(message.text).toContain("expires in 60 minutes");
  });
});
