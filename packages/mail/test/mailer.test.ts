import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createMailer, templates } from "../src";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function outboxMailer() {
  const dir = await mkdtemp(path.join(os.tmpdir(), "notebox-outbox-"));
  dirs.push(dir);
  const lines: string[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
  return { dir, lines, mailer: createMailer({ smtpUrl: undefined, from: "Notebox <no-reply@localhost>", outboxDir: dir, logger }) };
}

describe("mail without SMTP", () => {
  it("writes each message to the outbox as .eml and logs its text, so a newcomer can read the code", async () => {
    const { dir, lines, mailer } = await outboxMailer();
    await mailer.send(templates.verificationCode("new@example.test", "042917", 10));
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

  it("keeps a hostile address out of the outbox path", async () => {
    const { dir, mailer } = await outboxMailer();
    await mailer.send({ ...templates.verificationCode("x@example.test", "123456", 10), to: "../../evil@example.test" });
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
