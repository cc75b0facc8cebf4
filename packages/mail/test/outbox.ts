// A mailer without SMTP, writing to a temporary outbox folder that is removed after each test.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach } from "vitest";
import { createMailer } from "../src";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

export async function outboxMailer() {
  const dir = await mkdtemp(path.join(os.tmpdir(), "notebox-outbox-"));
  dirs.push(dir);
  const lines: string[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
  return {
    dir,
    lines,
    mailer: createMailer({ smtpUrl: undefined, from: "Notebox <no-reply@localhost>", outboxDir: dir, logger }),
  };
}
