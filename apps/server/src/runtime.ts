// Builds the long-lived services once per process from the typed configuration.
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Config } from "@notebox/config";
import { createLimits, createPasswordHasher, type CoreDeps, type LimitRules } from "@notebox/core";
import { openDatabase } from "@notebox/db";
import { createMailer } from "@notebox/mail";
import { createStorage } from "@notebox/storage";
import { Redis } from "ioredis";
import { pino, type Logger } from "pino";

export interface RuntimeOptions {
  logger?: Logger;
  limitRules?: Partial<LimitRules>;
  /** Namespace for shared Redis keys; tests give each server its own. */
  redisPrefix?: string;
}

export interface Runtime {
  deps: CoreDeps;
  redis: Redis | undefined;
  close(): Promise<void>;
}

export function createLogger(config: Pick<Config, "logLevel">): Logger {
  return pino({
    level: config.logLevel,
    redact: {
      paths: ["password", "*.password", "currentPassword", "newPassword", "token", "*.token", "req.headers.cookie", "req.headers.authorization"],
      censor: "[redacted]",
    },
  });
}

export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config);
  if (config.databaseUrl.startsWith("sqlite:")) {
    mkdirSync(path.dirname(path.resolve(config.databaseUrl.slice("sqlite:".length))), { recursive: true });
  }
  const db = await openDatabase({ url: config.databaseUrl });

  let redis: Redis | undefined;
  if (config.redisUrl) {
    redis = new Redis(config.redisUrl, {
      // Redis is a cache: never queue commands while it is away, fail fast and fall back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
    });
    // Wait briefly for the first connection so early requests do not count in the fallback store.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 3_000);
      redis!.once("ready", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    let lastWarning = 0;
    redis.on("error", (error: Error) => {
      if (Date.now() - lastWarning > 60_000) {
        lastWarning = Date.now();
        logger.warn({ err: error.message }, "redis unavailable; using in-process fallbacks");
      }
    });
  }

  const limits = createLimits({
    rules: options.limitRules,
    redis,
    prefix: options.redisPrefix ?? "nb",
    onStoreError: (error) => logger.warn({ err: error }, "rate-limit store failed; request allowed"),
  });
  const mailer = createMailer({
    smtpUrl: config.smtpUrl,
    from: config.mailFrom,
    outboxDir: path.join(config.dataDir, "outbox"),
    logger,
  });
  const storage = createStorage(config.storageUrl);
  const deps: CoreDeps = { config, db, mailer, storage, passwords: createPasswordHasher(), limits, logger };

  return {
    deps,
    redis,
    async close() {
      await mailer.close();
      await storage.close();
      await db.close();
      redis?.disconnect();
    },
  };
}
