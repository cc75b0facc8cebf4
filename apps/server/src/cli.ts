#!/usr/bin/env node
// The `notebox` command: serve, migrate, create-admin, import-legacy, optimize-search.
import cluster from "node:cluster";
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, type Config } from "@notebox/config";
import {
  AppError,
  createAdmin,
  createPasswordHasher,
  formatLegacySummary,
  importLegacy,
  optimizeSearch,
} from "@notebox/core";
import {
  LegacySourceError,
  migrate,
  openDatabase,
  openLegacySource,
  parseLegacyUrl,
  type Database,
  type LegacySource,
} from "@notebox/db";
import { createStorage } from "@notebox/storage";
import type { Logger } from "pino";
import { createLogger, createRuntime, type Runtime } from "./runtime";
import { startServing } from "./server";

const usage = `Usage: notebox <command>

Commands:
  serve                       start the web app and API (default); WORKERS sets how
                              many processes serve the port
  migrate                     apply database migrations
  create-admin --email E --username U (--password-stdin | --password P)
                              create the first administrator, or promote an account
  import-legacy --from mysql://user:pass@host:port/db [--dry-run]
                              bring users, notes and files over from the original
                              system's database; --dry-run only counts what it would do
  optimize-search [--minutes M]
                              MySQL/MariaDB: empty the full-text index's list of edited
                              and deleted notes, which every search reads (the server
                              spends up to 5 minutes an hour on it); stops after M minutes
                              (default 10) and goes on where it stopped when run again
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

async function main(argv: string[]): Promise<number> {
  const [command = "serve", ...rest] = argv;
  if (command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(usage);
    return 0;
  }
  const config = loadConfig();
  const logger = createLogger(config);

  switch (command) {
    case "serve": {
      // In a cluster, the primary forwards SIGTERM and SIGINT to its workers and exits once they
      // have drained; a worker also stops on its own when it gets one (Ctrl-C signals them all).
      // The signals are taken before the server starts: a cluster's first worker answers /readyz
      // while the primary still waits for the others, and a SIGTERM then (a rolling update) must
      // drain them once they are up, not kill the primary under them. Started, then stopped.
      let server: Awaited<ReturnType<typeof startServing>> | null = null;
      let stopAfterStart: string | null = null;
      const stop = (signal: string) => {
        if (!server) {
          stopAfterStart = signal;
          return;
        }
        logger.info({ signal }, "shutting down: draining in-flight requests");
        server.close().then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error({ err: error }, "shutdown failed");
            process.exit(1);
          },
        );
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
      server = await startServing(config, { logger });
      // A cluster's workers (this program again) leave announcing it to their primary.
      if (!cluster.isWorker) {
        const processes = config.workers > 1 ? ` with ${config.workers} workers` : "";
        logger.info(
          { url: config.publicUrl, port: server.port, workers: config.workers },
          `Notebox is listening on ${config.publicUrl}${processes}`,
        );
        if (server.metricsUrl) logger.info({ url: server.metricsUrl }, `Metrics are served on ${server.metricsUrl}`);
      }
      if (stopAfterStart) stop(stopAfterStart);
      return -1; // keep running
    }
    case "migrate": {
      const db = await openDatabase({ url: config.databaseUrl, migrate: false });
      const applied = await migrate(db.sequelize);
      process.stdout.write(applied.length ? `Applied: ${applied.join(", ")}\n` : "Up to date.\n");
      await db.close();
      return 0;
    }
    case "create-admin": {
      const { values } = parseArgs({
        args: rest,
        options: {
          email: { type: "string" },
          username: { type: "string" },
          password: { type: "string" },
          "password-stdin": { type: "boolean" },
        },
      });
      if (!values.email || !values.username || (!values.password && !values["password-stdin"])) {
        process.stderr.write(usage);
        return 2;
      }
      const password = values["password-stdin"] ? await readStdin() : values.password!;
      const db = await openDatabase({ url: config.databaseUrl });
      try {
        const { user, created } = await createAdmin({
          deps: { db, passwords: createPasswordHasher() },
          email: values.email,
          username: values.username,
          password,
        });
        process.stdout.write(`${created ? "Created" : "Promoted"} administrator ${user.username} <${user.email}>\n`);
        return 0;
      } finally {
        await db.close();
      }
    }
    case "import-legacy":
      return importLegacyCommand(rest, config, logger);
    case "optimize-search":
      return optimizeSearchCommand(rest, config);
    default:
      process.stderr.write(`Unknown command: ${command}\n\n${usage}`);
      return 2;
  }
}

/**
 * Exit 0 when the index was optimized (all of it, or as much as the time allowed: said which), 2
 * for a usage error, 1 when the database server does not allow it (innodb_optimize_fulltext_only).
 * Ctrl-C stops after the statement under way.
 */
async function optimizeSearchCommand(args: string[], config: Config): Promise<number> {
  let minutes: number;
  try {
    const { values } = parseArgs({ args, options: { minutes: { type: "string" } } });
    minutes = Number(values.minutes ?? 10);
    if (!Number.isFinite(minutes) || minutes <= 0) throw new Error("--minutes takes a number of minutes above 0");
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  const db = await openDatabase({ url: config.databaseUrl });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const result = await optimizeSearch({ deps: { db }, budgetMs: minutes * 60_000, signal: stop.signal });
    switch (result.state) {
      case "not-needed":
        process.stdout.write("SQLite's full-text index keeps itself lean: nothing to do.\n");
        return 0;
      case "off":
        process.stderr.write(
          "The database server's innodb_optimize_fulltext_only is OFF: with it OFF, OPTIMIZE TABLE rebuilds the whole notes table (blocking writes for minutes), so nothing was done. Turn it ON (SET GLOBAL innodb_optimize_fulltext_only = ON, and in the server's configuration) and run this again.\n",
        );
        return 1;
      case "ran": {
        const seconds = (result.ms / 1000).toFixed(1);
        process.stdout.write(
          result.finished
            ? `Full-text index optimized: ${result.statements} statements in ${seconds} s; nothing is left to do.\n`
            : `Full-text index: ${result.statements} statements in ${seconds} s, stopped before the end of its pass; run this again to go on.\n`,
        );
        return 0;
      }
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await db.close();
  }
}

/**
 * Exit 0 when done, 2 for a usage error, 1 when a database cannot be reached or the import stops
 * (with a one-line reason, never a stack trace).
 */
async function importLegacyCommand(args: string[], config: Config, logger: Logger): Promise<number> {
  let values: { from?: string; "dry-run"?: boolean };
  try {
    ({ values } = parseArgs({ args, options: { from: { type: "string" }, "dry-run": { type: "boolean" } } }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (!values.from || !parseLegacyUrl(values.from)) {
    process.stderr.write(`import-legacy needs --from mysql://user:pass@host:port/db\n\n${usage}`);
    return 2;
  }
  const dryRun = values["dry-run"] ?? false;

  let source: LegacySource;
  try {
    source = await openLegacySource(values.from);
  } catch (error) {
    process.stderr.write(`${error instanceof LegacySourceError ? error.message : String(error)}\n`);
    return 1;
  }
  let runtime: Runtime | undefined;
  let dryRunDb: Database | undefined;
  const dryRunStorage = dryRun ? createStorage(config.storageUrl) : undefined;
  try {
    let deps: Parameters<typeof importLegacy>[0]["deps"];
    try {
      if (dryRun) {
        dryRunDb = await openDryRunDatabase(config.databaseUrl);
        deps = { db: dryRunDb, storage: dryRunStorage!, passwords: createPasswordHasher() };
      } else {
        // The server's own services, so a running instance sharing Redis sees the new notes at once.
        runtime = await createRuntime(config, { logger });
        deps = runtime.deps;
      }
    } catch (error) {
      process.stderr.write(`Could not open Notebox's database: ${(error as Error).message}\n`);
      return 1;
    }
    const summary = await importLegacy({ deps, source, dryRun });
    process.stdout.write(formatLegacySummary(summary));
    return 0;
  } catch (error) {
    process.stderr.write(
      `The import stopped: ${(error as Error).message ?? String(error)}\nEverything imported before this point is kept; run the command again to continue.\n`,
    );
    return 1;
  } finally {
    await source.close().catch(() => {});
    await runtime?.close().catch(() => {});
    await dryRunDb?.close().catch(() => {});
    await dryRunStorage?.close().catch(() => {});
  }
}

/**
 * A dry run writes nothing: it reads Notebox's database as it is, without migrating it, and a
 * SQLite file that does not exist yet as an empty Notebox (opening it would create it).
 */
async function openDryRunDatabase(url: string): Promise<Database> {
  if (url.startsWith("sqlite:") && !existsSync(url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, ""))) {
    return openDatabase({ url: "sqlite::memory:", migrate: false });
  }
  return openDatabase({ url, migrate: false });
}

// Every command ends by process.exit with its code. Should the event loop ever empty before the
// command has settled (work left waiting on something that will not come), Node would end the
// process with 0, as if it had succeeded: it ends with 1 and says so instead.
let settled = false;
process.once("beforeExit", () => {
  if (settled) return;
  process.stderr.write("The command stopped before it finished.\n");
  process.exitCode = 1;
});

main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    settled = true;
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    if (error instanceof AppError) {
      const details = error.fieldErrors
        ? Object.entries(error.fieldErrors)
            .map(([f, m]) => `  ${f}: ${m.join(" ")}`)
            .join("\n")
        : "";
      process.stderr.write(`${error.message}\n${details}\n`);
      process.exit(1);
    }
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
