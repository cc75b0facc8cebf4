#!/usr/bin/env node
// The container image, built and run as someone deploying it would: builds infra/Dockerfile with
// podman, runs it with a named volume for /data (host network, PORT and PUBLIC_URL set, a
// JWT_SECRET as production requires), signs up over HTTP (register, the 6-digit code from the
// mail the embedded default writes to DATA_DIR/outbox, verify), creates a note, stops the
// container (SIGTERM must end it cleanly), starts a new one on the same volume and finds the note
// with the same session cookie; then checks the image: non-root process, its HEALTHCHECK, no
// dev dependencies, tests or TypeScript sources, nothing dangling, and prints its size.
// Fails (exit 1) when podman cannot build or run; never skips. Removes the containers, the volume
// and its image tag even on failure. Run `bash infra/podman/prepare-base.sh` first (see README).
//
//   node infra/podman/test-image.mjs [--keep-image]
//
// The npm ci stage is tagged localhost/notebox-build-cache:deps so the next build reuses it
// until a package.json or the lockfile changes; the other layers this run made are removed.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
process.env.CONTAINERS_CONF = path.join(root, "infra/podman/containers.conf");
const keepImage = process.argv.includes("--keep-image");

const runId = `${process.pid}-${randomBytes(3).toString("hex")}`;
const image = `localhost/notebox:ci-${runId}`;
const cacheTag = "localhost/notebox-build-cache:deps";
const volume = `notebox-ci-${runId}`;
const names = { first: `notebox-ci-${runId}-1`, second: `notebox-ci-${runId}-2` };
const jwtSecret = randomBytes(48).toString("base64");
const scratch = mkdtempSync(path.join(tmpdir(), "notebox-image-"));
const started = Date.now();
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

let passed = 0;
let imagesBefore = new Set();
let cacheBefore = null;
let current = null; // the container whose log a failure prints

function pass(what) {
  passed++;
  console.log(`  ok  ${what}`);
}

function check(condition, what, detail = "") {
  if (!condition) throw new Error(`${what}${detail ? `: ${detail}` : ""}`);
  pass(what);
}

/** Runs podman; throws with its output unless it exits 0 (or `allowFail`). */
function podman(args, { allowFail = false } = {}) {
  const r = spawnSync("podman", args, {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (r.error)
    throw new Error(`podman ${args[0]}: ${r.error.message} (is podman installed? run infra/podman/prepare-base.sh)`);
  const out = { status: r.status, stdout: (r.stdout ?? "").trim(), stderr: (r.stderr ?? "").trim() };
  if (!allowFail && r.status !== 0) {
    throw new Error(
      `podman ${args.slice(0, 2).join(" ")} exited ${r.status ?? r.signal}:\n${out.stdout}\n${out.stderr}`,
    );
  }
  return out;
}

let building = null; // the podman build under way, stopped with this script

/** podman build, its output in `logFile`; asynchronous, so a signal can stop it. */
function podmanBuild(args, logFile) {
  const fd = openSync(logFile, "w");
  return new Promise((resolve, reject) => {
    building = spawn("podman", ["build", ...args], { cwd: root, stdio: ["ignore", fd, fd] });
    const timer = setTimeout(() => building?.kill("SIGTERM"), 30 * 60_000);
    building.once("error", (error) =>
      reject(new Error(`podman build: ${error.message} (is podman installed? run infra/podman/prepare-base.sh)`)),
    );
    building.once("exit", (code, signal) => {
      clearTimeout(timer);
      building = null;
      closeSync(fd);
      if (code === 0) return resolve();
      const tail = readFileSync(logFile, "utf8").split("\n").slice(-60).join("\n");
      reject(new Error(`podman build exited ${code ?? signal}:\n${tail}`));
    });
  });
}

/** Every image's ID, or only those without a name (the layers a build leaves). */
function allImageIds({ untaggedOnly = false } = {}) {
  const lines = podman(["images", "--all", "--no-trunc", "--format", "{{.ID}} {{.Repository}}"])
    .stdout.split("\n")
    .filter(Boolean);
  return new Set(
    lines
      .filter((line) => !untaggedOnly || line.endsWith(" <none>"))
      .map((line) => line.split(" ")[0].replace(/^sha256:/, "")),
  );
}
const imageId = (ref) => {
  const r = podman(["image", "inspect", "--format", "{{.ID}}", ref], { allowFail: true });
  return r.status === 0 ? r.stdout : null;
};

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function runContainer(name, port) {
  current = name;
  podman([
    "run",
    "--detach",
    "--pull",
    "never",
    "--name",
    name,
    "--network",
    "host",
    // No systemd here to time the health checks; the test runs the image's check itself below.
    "--health-interval",
    "disable",
    "--env",
    `PORT=${port}`,
    "--env",
    `PUBLIC_URL=http://127.0.0.1:${port}`,
    "--env",
    `JWT_SECRET=${jwtSecret}`,
    "--volume",
    `${volume}:/data`,
    image,
  ]);
}

async function waitReady(name, base) {
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    const state = podman(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name]).stdout;
    if (!state.startsWith("running")) throw new Error(`container ${name} stopped before /readyz answered (${state})`);
    if (Date.now() > deadline) throw new Error(`/readyz did not answer 200 within 90 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** tRPC over HTTP with plain JSON, a cookie jar and the Origin a browser on the app's pages sends. */
class Client {
  cookies = new Map();
  constructor(base) {
    this.base = base;
  }
  async call(method, procedure, input) {
    const headers = { accept: "application/json" };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    let url = `${this.base}/api/v1/trpc/${procedure}`;
    let body;
    if (method === "POST") {
      headers.origin = this.base;
      headers["content-type"] = "application/json";
      body = JSON.stringify(input);
    } else if (input !== undefined) {
      url += `?input=${encodeURIComponent(JSON.stringify(input))}`;
    }
    const res = await fetch(url, { method, headers, body, redirect: "manual", signal: AbortSignal.timeout(30_000) });
    for (const raw of res.headers.getSetCookie()) {
      const pair = raw.split(";")[0];
      const eq = pair.indexOf("=");
      const [name, value] = [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
      if (value === "" || /max-age=0/i.test(raw)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      // reported below
    }
    return { status: res.status, data: json?.result?.data, error: json?.error ?? (json ? null : text.slice(0, 300)) };
  }
}

/** The sign-up code from the mail in the volume's outbox (no SMTP_URL: the embedded default). */
async function codeFromOutbox(name, email) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = podman(["exec", name, "sh", "-c", `grep -l -F -i -e "To: ${email}" /data/outbox/*.eml | xargs -r cat`], {
      allowFail: true,
    });
    const m = /verification code is (\d{6})\b/.exec(r.stdout);
    if (m) return m[1];
    if (Date.now() > deadline) throw new Error(`no mail with a code for ${email} in /data/outbox within 20 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function cleanup() {
  for (const name of Object.values(names))
    podman(["rm", "--force", "--time", "0", "--ignore", name], { allowFail: true });
  podman(["volume", "rm", "--force", volume], { allowFail: true });
  if (!keepImage) podman(["rmi", "--force", image], { allowFail: true });
  // Layers this run made that no later build can reuse: everything new except the npm ci stage
  // under cacheTag and its parents; and the previous npm ci stage, when this one replaced it.
  try {
    const keep = new Set();
    for (let id = imageId(cacheTag); id;) {
      keep.add(id);
      const parent = podman(["image", "inspect", "--format", "{{.Parent}}", id], { allowFail: true }).stdout;
      id = parent && parent !== "<nil>" ? parent : null;
    }
    if (keepImage) keep.add(imageId(image));
    const stale = [...allImageIds({ untaggedOnly: true })].filter((id) => !imagesBefore.has(id) && !keep.has(id));
    if (cacheBefore && !keep.has(cacheBefore)) stale.push(cacheBefore);
    // An image with children cannot go before them: a few passes; one still in use stays.
    let left = stale;
    for (let pass = 0; pass < 6 && left.length; pass++) {
      for (const id of left) podman(["rmi", id], { allowFail: true });
      const now = allImageIds();
      left = left.filter((id) => now.has(id));
    }
  } catch (error) {
    console.log(`(could not tidy the build layers: ${error.message})`);
  }
  rmSync(scratch, { recursive: true, force: true });
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    console.error(`${signal}: stopping and cleaning up`);
    building?.kill("SIGTERM");
    cleanup();
    process.exit(1);
  });
}

async function main() {
  const version = podman(["version", "--format", "{{.Client.Version}}"]).stdout;
  console.log(`podman ${version}; image ${image}, volume ${volume}`);
  imagesBefore = allImageIds();
  cacheBefore = imageId(cacheTag);

  // 1. Build. The npm ci stage first, under a tag of its own, so the cache survives this run.
  let t = Date.now();
  const build = [
    ...["--isolation", "chroot", "--network", "host", "--format", "docker", "--file", "infra/Dockerfile"],
    ...["--build-arg", "NODE_IMAGE=localhost/node:20-bookworm-slim"],
  ];
  await podmanBuild([...build, "--target", "deps", "--tag", cacheTag, "."], path.join(scratch, "deps.log"));
  await podmanBuild([...build, "--tag", image, "."], path.join(scratch, "build.log"));
  check(
    imageId(image) !== null,
    `podman build -f infra/Dockerfile (${seconds(t)})`,
    `no image ${image} after the build`,
  );

  // 2. Production refuses to start without a signing secret, naming the variable.
  const noSecret = podman(
    ["run", "--rm", "--pull", "never", "--network", "none", "--health-interval", "disable", image],
    { allowFail: true },
  );
  check(
    noSecret.status !== 0 && /JWT_SECRET/.test(noSecret.stdout + noSecret.stderr),
    "without JWT_SECRET the container stops, naming it",
    `exit ${noSecret.status}: ${(noSecret.stdout + noSecret.stderr).slice(0, 300)}`,
  );

  // 3. Run with a named volume; sign up as a person would; create a note.
  podman(["volume", "create", volume]);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  t = Date.now();
  runContainer(names.first, port);
  await waitReady(names.first, base);
  pass(`the container answers /readyz on ${base} (${seconds(t)})`);

  const n = randomBytes(4).toString("hex");
  const account = { username: `image_${n}`, email: `image.${n}@example.test`, password: `correct horse battery ${n}` };
  const client = new Client(base);
  const reg = await client.call("POST", "auth.register", account);
  check(reg.status === 200, "auth.register answers 200", `${reg.status} ${JSON.stringify(reg.error)}`);
  const code = await codeFromOutbox(names.first, account.email);
  pass("the sign-up code is in the mail in the volume's outbox");
  const verified = await client.call("POST", "auth.verifyEmail", { email: account.email, code });
  check(
    verified.status === 200 && verified.data?.user?.email === account.email,
    "auth.verifyEmail signs the new account in",
    `${verified.status} ${JSON.stringify(verified.error)}`,
  );
  check(client.cookies.has("notebox_session"), "a notebox_session cookie is set");
  const title = `Kept across restarts ${n}`;
  const created = await client.call("POST", "notes.create", {
    title,
    description: "Written before the container was replaced.",
  });
  check(
    created.status === 200 && created.data?.title === title,
    "notes.create answers 200",
    `${created.status} ${JSON.stringify(created.error)}`,
  );

  // 4. Stop (SIGTERM to node as PID 1 must drain and exit 0), then a new container, same volume.
  t = Date.now();
  podman(["stop", "--time", "30", names.first]);
  const exit = podman(["inspect", "--format", "{{.State.ExitCode}}", names.first]).stdout;
  check(exit === "0", `podman stop ends the server cleanly on SIGTERM (${seconds(t)})`, `exit code ${exit}`);
  podman(["rm", names.first]);
  t = Date.now();
  runContainer(names.second, port);
  await waitReady(names.second, base);
  const list = await client.call("GET", "notes.list", { limit: 50 });
  check(
    list.status === 200 && list.data?.items?.some((note) => note.title === title),
    `a new container on the same volume finds the note, same session (${seconds(t)})`,
    `${list.status} ${JSON.stringify(list.error ?? list.data)}`,
  );

  // 5. The running image.
  const uid = podman(["exec", names.second, "id", "-u"]).stdout;
  check(uid !== "0" && /^\d+$/.test(uid), `the server runs as a non-root user (uid ${uid})`);
  const health = podman(["healthcheck", "run", names.second], { allowFail: true });
  check(health.status === 0, "the image's HEALTHCHECK passes", `${health.status} ${health.stdout} ${health.stderr}`);

  const forbidden = [
    ...[
      "vitest",
      "typescript",
      "esbuild",
      "@sveltejs/kit",
      "vite",
      "svelte",
      "eslint",
      "typescript-eslint",
      "turbo",
      "tsx",
      "prettier",
      "playwright-core",
      "s3rver",
      "smtp-server",
      "mailparser",
      "exceljs",
      "autocannon",
      "@notebox",
    ].map((p) => `/app/node_modules/${p}`),
    "/app/apps/server/src",
    "/app/apps/server/test",
    "/app/apps/web/src",
    "/app/packages",
    "/app/tooling",
    "/app/bench",
    "/app/.git",
    "/app/infra",
    "/app/apps/server/dist/bench-entry.js",
  ];
  const required = [
    "/app/apps/server/dist/cli.js",
    "/app/apps/server/dist/sqlite-worker.cjs",
    "/app/apps/web/build/index.html",
    "/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node",
    "/app/node_modules/@node-rs/argon2",
  ];
  const inspect = podman([
    "exec",
    names.second,
    "sh",
    "-c",
    [
      `for p in ${forbidden.join(" ")}; do [ -e "$p" ] || [ -L "$p" ] && echo "present: $p"; done`,
      `for p in ${required.join(" ")}; do [ -e "$p" ] || echo "missing: $p"; done`,
      // TypeScript or Svelte sources and test files anywhere outside node_modules.
      `find / -xdev -path /proc -prune -o -path '*/node_modules' -prune -o -type f \\( -name '*.ts' -o -name '*.tsx' -o -name '*.svelte' -o -name '*.test.*' \\) -print | sed 's/^/source: /'`,
      `find /app/node_modules -xtype l | sed 's/^/dangling link: /'`,
      "true",
    ].join("; "),
  ]).stdout;
  check(
    inspect === "",
    "the image holds no dev dependencies, tests, TypeScript sources or dangling links, and has what it runs",
    `\n${inspect}`,
  );

  const size = Number(podman(["image", "inspect", "--format", "{{.Size}}", image]).stdout);
  pass(`image size: ${size} bytes (${(size / 1e6).toFixed(0)} MB)`);
}

let failed = 0;
try {
  await main();
} catch (error) {
  failed = 1;
  console.error(`FAILED: ${error.message}`);
  if (current) {
    const logs = podman(["logs", "--tail", "40", current], { allowFail: true });
    if (logs.stdout || logs.stderr) console.error(`--- last lines of ${current}:\n${logs.stdout}\n${logs.stderr}`);
  }
} finally {
  cleanup();
}
console.log(`container image test took ${seconds(started)}`);
console.log(`image: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
