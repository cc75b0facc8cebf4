// The bundle people run (`npm start`, the container's command) rather than the sources the other
// tests import: it starts on the embedded default, serves the web app, and mails to the outbox.
import { spawn, type ChildProcess } from "node:child_process";
import { get, type IncomingHttpHeaders } from "node:http";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
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
/** The account the sign-up test made, signed in. */
let newcomer: TestClient | undefined;

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

/** A GET as sent, without fetch's decoding: the headers and the bytes on the wire. */
function rawGet(target: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    get(target, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on("error", reject);
  });
}

const decoded = ({ headers, body }: { headers: IncomingHttpHeaders; body: Buffer }) =>
  (headers["content-encoding"] === "br"
    ? brotliDecompressSync(body)
    : headers["content-encoding"] === "gzip"
      ? gunzipSync(body)
      : body
  ).toString("utf8");

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
    newcomer = client;
  });

  it.skipIf(!existsSync(webIndex))("sends the web app compressed as built, cached by kind", async () => {
    const html = await rawGet(`${url}/notes`, { "accept-encoding": "br" });
    expect(html.headers["content-encoding"]).toBe("br");
    expect(html.headers.vary).toMatch(/accept-encoding/i);
    expect(html.headers["cache-control"]).toBe("no-cache");
    const script = /\/_app\/immutable\/entry\/app\.[\w-]+\.js/.exec(decoded(html))?.[0];
    expect(script).toBeDefined();
    const sizes: Record<string, number> = {};
    const texts = new Set<string>();
    for (const encoding of ["br", "gzip", "identity"]) {
      const res = await rawGet(`${url}${script}`, { "accept-encoding": encoding });
      expect(res.status).toBe(200);
      expect(res.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
      expect(res.headers.vary).toMatch(/accept-encoding/i);
      expect(res.headers["content-encoding"]).toBe(encoding === "identity" ? undefined : encoding);
      sizes[encoding] = res.body.length;
      texts.add(decoded(res));
    }
    expect(texts.size).toBe(1);
    expect(sizes.br).toBeLessThan(sizes.gzip!);
    expect(sizes.gzip).toBeLessThan(sizes.identity!);
  });

  it("compresses API answers of 1 KB or more when the client accepts it, and only those", async () => {
    const client = newcomer!;
    const cookie = client.cookieHeader();
    const small = await rawGet(`${url}/api/v1/trpc/auth.me`, { cookie, "accept-encoding": "br, gzip" });
    expect(small.headers["content-encoding"]).toBeUndefined();
    expect(small.headers.vary).toMatch(/accept-encoding/i);
    for (let i = 0; i < 6; i++) {
      const created = await client.mutation("notes.create", { title: `Long ${i}`, description: "words ".repeat(300) });
      expect(created.status).toBe(200);
    }
    const plain = await rawGet(`${url}/api/v1/trpc/notes.list`, { cookie, "accept-encoding": "identity" });
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(1024);
    for (const encoding of ["br", "gzip"]) {
      const large = await rawGet(`${url}/api/v1/trpc/notes.list`, { cookie, "accept-encoding": encoding });
      expect(large.status).toBe(200);
      expect(large.headers["content-encoding"]).toBe(encoding);
      expect(large.body.length).toBeLessThan(plain.body.length / 2);
      expect(decoded(large)).toBe(plain.body.toString("utf8"));
    }
  });

  it.skipIf(!existsSync(webIndex))(
    "puts a signed-in person's account and first page of notes into the home page, escaped, never cached",
    async () => {
      const client = newcomer!;
      const title = "</script><script>alert(1)</script> & \u2028 end";
      expect((await client.mutation("notes.create", { title, description: "boot" })).status).toBe(200);
      const home = await rawGet(`${url}/`, { cookie: client.cookieHeader(), "accept-encoding": "gzip" });
      expect(home.headers["cache-control"]).toBe("private, no-cache");
      expect(home.headers.vary).toMatch(/cookie/i);
      const html = decoded(home);
      const json = /<script id="notebox-boot" type="application\/json">([^<]*)<\/script>/.exec(html)?.[1];
      expect(json).toBeDefined();
      expect(html).not.toContain("<script>alert(1)");
      // The first paint: the header and skeleton rows, until the app replaces them.
      expect(html).toMatch(/<body[^>]*><div id="notebox-shell" aria-hidden="true">.*class="card-list skeleton"/s);
      const boot = JSON.parse(json!) as { me: { email: string }; notes: { items: { title: string }[] } };
      expect(boot.me.email).toBe("newcomer@example.test");
      expect(boot.notes.items[0]!.title).toBe(title);
      expect(boot.notes.items.length).toBeLessThanOrEqual(20);

      // Another page gets the account only; a visitor, nothing but the app.
      const files = decoded(await rawGet(`${url}/files`, { cookie: client.cookieHeader() }));
      const onFiles = JSON.parse(/id="notebox-boot" type="application\/json">([^<]*)</.exec(files)![1]!) as object;
      expect(Object.keys(onFiles)).toEqual(["me"]);
      const visitor = await rawGet(`${url}/`, {});
      expect(visitor.headers["cache-control"]).toBe("no-cache");
      expect(decoded(visitor)).not.toContain("notebox-boot");
      expect(decoded(visitor)).not.toContain("notebox-shell");
    },
  );

  it("stops cleanly on SIGTERM with exit code 0", async () => {
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
