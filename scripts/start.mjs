// `npm start`: builds what is missing or out of date, saying what it is doing (the first build
// takes about a minute; turbo skips a build whose sources did not change), then serves Notebox
// and says where once it is listening. Build output appears only when a build fails.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const turbo = fileURLToPath(new URL("../node_modules/turbo/bin/turbo", import.meta.url));
const cli = fileURLToPath(new URL("../apps/server/dist/cli.js", import.meta.url));
const webBuilt = existsSync(fileURLToPath(new URL("../apps/web/build/index.html", import.meta.url)));
const serverBuilt = existsSync(cli);

const say = (line) => process.stdout.write(`${line}\n`);

/** One package's build through turbo, quiet unless it fails: then everything it printed, and exit. */
function build(workspace) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [turbo, "run", "build", `--filter=${workspace}`, "--output-logs=errors-only"],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
    );
    const output = [];
    child.stdout.on("data", (chunk) => output.push(chunk));
    child.stderr.on("data", (chunk) => output.push(chunk));
    child.on("close", (code) => {
      if (code !== 0) {
        process.stderr.write(Buffer.concat(output));
        say("The build failed: see above.");
        process.exit(code || 1);
      }
      const seconds = Math.round((Date.now() - started) / 1000);
      if (seconds >= 2) say(`  done in ${seconds} s`);
      resolve();
    });
  });
}

say(
  webBuilt
    ? "Checking the web app is up to date (rebuilding it after an update takes about a minute)…"
    : "Building the web app (first start only, about a minute)…",
);
await build("@notebox/web");
say(serverBuilt ? "Checking the server is up to date…" : "Building the server…");
await build("@notebox/server");

// Where it listens is the server's to say (PORT and PUBLIC_URL decide): its log line is repeated plainly.
say("Starting Notebox…");
// Its own process group, so the one stop signal it gets is the one passed on below (Ctrl+C would
// otherwise reach it twice, from the terminal and through npm, and the second cuts its drain short).
const server = spawn(process.execPath, [cli, "serve"], {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"],
  detached: true,
});
let pending = "";
server.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  pending += chunk.toString("utf8");
  const lines = pending.split("\n");
  pending = lines.pop() ?? "";
  for (const line of lines) {
    const url = /"msg":"Notebox is listening on ([^"]+)"/.exec(line)?.[1];
    if (url) say(`Notebox is running on ${url} (Ctrl+C stops it).`);
  }
});
let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  server.kill(signal);
}
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
// The terminal closing would leave it running on its own.
process.on("SIGHUP", () => stop("SIGTERM"));
server.on("close", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
