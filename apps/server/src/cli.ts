#!/usr/bin/env node
// The `notebox` command: serve, migrate, create-admin.
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "@notebox/config";
import { AppError, createAdmin, createPasswordHasher } from "@notebox/core";
import { migrate, openDatabase } from "@notebox/db";
import { createLogger } from "./runtime";
import { startServer } from "./server";

const usage = `Usage: notebox <command>

Commands:
  serve                       start the web app and API (default)
  migrate                     apply database migrations
  create-admin --email E --username U (--password-stdin | --password P)
                              create the first administrator, or promote an account
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
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
      const server = await startServer(config, { logger });
      logger.info({ url: config.publicUrl, port: server.port }, `Notebox is listening on ${config.publicUrl}`);
      const stop = (signal: string) => {
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
    default:
      process.stderr.write(`Unknown command: ${command}\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    if (error instanceof AppError) {
      const details = error.fieldErrors
        ? Object.entries(error.fieldErrors).map(([f, m]) => `  ${f}: ${m.join(" ")}`).join("\n")
        : "";
      process.stderr.write(`${error.message}\n${details}\n`);
      process.exit(1);
    }
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
