// The real `notebox` CLI in a child process (from source, through tsx), for tests that must kill
// the server or that would take the test process down with it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TestClient } from "./client";
import { freePort } from "./server";

const serverDir = fileURLToPath(new URL("../..", import.meta.url));

/** Runs one CLI command to the end. The child gets only `env` (no inherited environment). */
export function runCli(args: string[], env: Record<string, string>, stdin?: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], {
      cwd: serverDir,
      env: { LOG_LEVEL: "silent", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? "");
  });
}

export interface ServerProcess {
  /** http://127.0.0.1:PORT */
  url: string;
  child: ChildProcess;
  /** Resolves when the process has exited, however it ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** What the process wrote to stderr (a crash's stack trace lands here). */
  stderr(): string;
  /** A client of this server that sends the right Origin. */
  client(): TestClient;
  /**
   * SIGTERM, then SIGKILL if it does not exit within 10 s; before that SIGKILL, what each of its
   * processes was waiting on is written to stderr (see `whyStillRunning`).
   */
  stop(): Promise<void>;
}

/** The signal on which a server process writes Node's diagnostic report (`--report-on-signal`). */
const REPORT_SIGNAL = "SIGUSR2";

/** The process's children (a cluster's workers), from Linux's /proc; none where it cannot be read. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

interface DiagnosticReport {
  header: { processId: number; commandLine: string[] };
  javascriptStack: { message: string; stack?: string[] };
  libuv: { type: string; is_active: boolean; is_referenced?: boolean; [detail: string]: unknown }[];
}

/**
 * A server that did not exit after SIGTERM: each of its processes (the primary and its workers)
 * writes Node's diagnostic report, and what keeps it running is summed up from them: the
 * JavaScript it is in, and the handles (sockets, timers, child processes) holding its event loop.
 */
async function whyStillRunning(pid: number, reportDir: string): Promise<string> {
  for (const each of [pid, ...childrenOf(pid)]) {
    try {
      process.kill(each, REPORT_SIGNAL);
    } catch {
      // already gone
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  return readdirSync(reportDir)
    .map((file) => {
      const report = JSON.parse(readFileSync(path.join(reportDir, file), "utf8")) as DiagnosticReport;
      const held = report.libuv
        .filter((handle) => handle.type !== "loop" && handle.is_active && handle.is_referenced !== false)
        .map((handle) => {
          const { type, is_active: _active, is_referenced: _referenced, address: _address, ...detail } = handle;
          return `${type} ${JSON.stringify(detail)}`;
        });
      const stack = report.javascriptStack.stack?.slice(0, 8).join("\n      ") ?? "";
      return [
        `process ${report.header.processId} (${report.header.commandLine.slice(-1).join(" ")})`,
        `  JavaScript: ${report.javascriptStack.message || "none running (waiting in the event loop)"}${stack ? `\n      ${stack}` : ""}`,
        `  holding the event loop: ${held.length ? `\n    ${held.join("\n    ")}` : "nothing"}`,
      ].join("\n");
    })
    .join("\n");
}

/** `notebox serve` on a free port with the given environment; resolves once /readyz answers 200. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const reportDir = mkdtempSync(path.join(os.tmpdir(), "notebox-reports-"));
  const reportArgs = ["--report-on-signal", `--report-signal=${REPORT_SIGNAL}`, `--report-directory=${reportDir}`];
  const child = spawn(process.execPath, ["--import", "tsx", ...reportArgs, "src/cli.ts", "serve"], {
    cwd: serverDir,
    env: { LOG_LEVEL: "silent", ...env, PORT: String(port), PUBLIC_URL: url },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      running = false;
      resolve({ code, signal });
    }),
  );
  const server: ServerProcess = {
    url,
    child,
    exited,
    alive: () => running,
    stderr: () => stderr,
    client: () => new TestClient(url, url),
    async stop() {
      if (running) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => {
          void whyStillRunning(child.pid!, reportDir)
            .then(
              (why) => console.error(`notebox serve was still running 10 s after SIGTERM:\n${why}`),
              (error: unknown) => console.error("notebox serve was still running 10 s after SIGTERM", error),
            )
            .finally(() => child.kill("SIGKILL"));
        }, 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(reportDir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!running) throw new Error(`notebox serve exited before it was ready:\n${stderr}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`notebox serve was not ready within 30 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
