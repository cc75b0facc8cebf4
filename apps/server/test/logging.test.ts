// Log lines: JSON, each line written while serving a request carries that request's id (the one
// sent back in X-Request-Id), and no secret ever reaches the log.
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/runtime";
import { newAccount, signUp, startTestServer, type TestServer } from "./support/server";

const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split("\n").filter(Boolean))
      lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

let t: TestServer;
beforeAll(async () => {
  // The production logger, writing to the test's sink.
  t = await startTestServer({ logger: createLogger({ logLevel: "info" }, sink) });
});
afterAll(() => t.close());

describe("request logs", () => {
  it("tags every line written for a request with its id, and leaks no secret", async () => {
    const account = newAccount();
    const { client } = await signUp(t, t.client(), account);
    const res = await client.fetch("/api/v1/trpc/notes.create", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "logged" }),
    });
    expect(res.status).toBe(200);
    const id = res.headers.get("x-request-id");
    expect(id).toBeTruthy();
    await t.server.runtime.deps.mailer.settled(); // mail is sent in the background

    const requestLines = lines.filter((l) => l.msg === "request");
    expect(requestLines.length).toBeGreaterThanOrEqual(3);
    expect(requestLines.find((l) => l.requestId === id)).toMatchObject({
      method: "POST",
      path: "/api/v1/trpc/notes.create",
      status: 200,
    });
    // The mail with the sign-up code is written on behalf of auth.register: it carries that request's id.
    const mail = lines.find((l) => l.msg === "mail sent");
    expect(mail?.requestId).toBeTruthy();
    expect(requestLines.map((l) => l.requestId)).toContain(mail!.requestId);

    // Nothing else ran in this process but the sweep at start, whose one line is the warning that a
    // MySQL/MariaDB server does not allow the full-text upkeep: every other line was for some request.
    const upkeepWarning = (l: (typeof lines)[number]) => /innodb_optimize_fulltext_only is OFF/.test(String(l.msg));
    expect(lines.filter((l) => typeof l.requestId !== "string" && !upkeepWarning(l))).toEqual([]);

    const all = JSON.stringify(lines);
    expect(all).not.toContain(account.password);
    expect(all).not.toContain(client.sessionToken!);
  });
});
