// The bundle people run (`npm start`, the container's command) rather than the sources the other
// tests import: it starts on the embedded default, serves the web app, and mails to the outbox.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "./support/client";
import { testDb } from "./support/env";
import { freePort } from "./support/server";

const serverDir = fileURLToPath(new URL("..", import.meta.url));
const bundle = path.join(serverDir, "dist/cli.js");
const webIndex = path.join(serverDir, "../web/build/index.html");

let child: ChildProcess;
let dataDir: string;
let url: string;
let output = "";

beforeAll(async () => {
  if (testDb !== "sqlite") return;
  if (!existsSync(bundle))
    throw new Error("dist/cli.js is missing: `npm test` builds it first (turbo), or run `node build.mjs`.");
  dataDir = await mkdtemp(path.join(os.tmpdir(), "notebox-built-"));
  const port = await freePort();
  url = `http://localhost:${port}`;
  // Only what a newcomer has: no database, SMTP, Redis or storage configured.
  child = spawn(process.execPath, [bundle, "serve"], {
    cwd: dataDir,
    env: { PATH: process.env.PATH, PORT: String(port) }, // eslint-disable-line no-restricted-properties
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  for (let i = 0; i < 100; i++) {
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the built server did not become ready:\n${output}`);
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

// It never touches the test database, so the SQLite project alone runs it.
describe.skipIf(testDb !== "sqlite")("the built server on the embedded default", () => {
  it("keeps its SQLite database and generated secret under ./data", async () => {
    const files = await readdir(path.join(dataDir, "data"));
    expect(files).toEqual(expect.arrayContaining(["notebox.db", "secret.key"]));
  });

  it.skipIf(!existsSync(webIndex))("serves the web app with its CSP on / and on client-side routes", async () => {
    for (const page of ["/", "/sign-up", "/notes/some-id"]) {
      const res = await fetch(`${url}${page}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/<html/i);
      expect(res.headers.get("content-security-policy")).toMatch(/script-src 'self' 'sha256-/);
    }
  });

  it("writes sign-up mail to ./data/outbox and the log, and the code in it works", async () => {
    const client = new TestClient(url);
    const email = "newcomer@example.test";
    const reg = await client.mutation("auth.register", {
      username: "newcomer",
      email,
      password: "a newcomer passphrase",
    });
    expect(reg.status).toBe(200);
    let eml = "";
    for (let i = 0; i < 50 && !eml; i++) {
      const names = await readdir(path.join(dataDir, "data/outbox")).catch(() => [] as string[]);
      const name = names.find((n) => n.includes(email));
      if (name) eml = await readFile(path.join(dataDir, "data/outbox", name), "utf8");
      else await new Promise((r) => setTimeout(r, 100));
    }
    const code = /Your Notebox code: (\d{6})/.exec(eml)?.[1];
    expect(code).toMatch(/^\d{6}$/);
    expect(output).toContain(code);
    const verified = await client.mutation("auth.verifyEmail", { email, code });
    expect(verified.status).toBe(200);
    expect((await client.query("auth.me")).data).toMatchObject({ email });
  });

  it("stops cleanly on SIGTERM with exit code 0", async () => {
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
