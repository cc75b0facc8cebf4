// Builds the long-lived services once per process from the typed configuration.
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Config } from "@notebox/config";
import { createCache, createLimits, createPasswordHasher, type CoreDeps, type LimitRules } from "@notebox/core";
import { openDatabase } from "@notebox/db";
import { createMailer } from "@notebox/mail";
import { createStorage } from "@notebox/storage";
import { Redis } from "ioredis";
import { pino, type DestinationStream, type Logger } from "pino";

export interface RuntimeOptions {
  logger?: Logger;
  limitRules?: Partial<LimitRules>;
  /** Namespace for shared Redis keys; tests give each server its own. */
  redisPrefix?: string;
  /** Cache lengths, or `disabled` for benchmarks that measure the uncached path. */
  cache?: { disabled?: boolean; listTtlMs?: number; sessionTtlMs?: number };
  /** Off only for the benchmark that compares edits with and without their history. */
  revisions?: boolean;
  /**
   * This process is a worker of `notebox serve`'s cluster (cluster.ts): its primary applied the
   * migrations before forking it, keeps the rate-limit counts of all workers and relays their
   * cache changes.
   */
  clusterWorker?: boolean;
}

export interface Runtime {
  deps: CoreDeps;
  redis: Redis | undefined;
  close(): Promise<void>;
}

export function createLogger(config: Pick<Config, "logLevel">, destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      redact: {
        paths: [
          "password",
          "*.password",
          "currentPassword",
          "newPassword",
          "token",
          "*.token",
          "req.headers.cookie",
          "req.headers.authorization",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}

export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config);
  const clusterWorker = options.clusterWorker ?? false;
  /** Trouble with a store requests carry on without is logged at most once a minute. */
  const warnAtMostEveryMinute = (message: string) => {
    let lastWarning = 0;
    return (error: unknown) => {
      if (Date.now() - lastWarning > 60_000) {
        lastWarning = Date.now();
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, message);
      }
    };
  };
  const warnRedis = warnAtMostEveryMinute("redis unavailable; reading uncached and limiting in process");
  if (config.databaseUrl.startsWith("sqlite:")) {
    mkdirSync(path.dirname(path.resolve(config.databaseUrl.slice("sqlite:".length))), { recursive: true });
  }
  const db = await openDatabase({ url: config.databaseUrl, migrate: !clusterWorker });

  let redis: Redis | undefined;
  if (config.redisUrl) {
    redis = new Redis(config.redisUrl, {
      // Redis is a cache: never queue commands while it is away, fail fast and fall back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      // A slow Redis must not slow requests down: give up on a command and read the database.
      commandTimeout: 500,
    });
    redis.on("error", (error: Error) => warnRedis(error));
    // Wait briefly for the first connection so early requests do not count in the fallback store.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 3_000);
      redis!.once("ready", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  const limits = createLimits({
    rules: options.limitRules,
    redis,
    prefix: options.redisPrefix ?? "nb",
    onStoreError: redis
      ? warnRedis
      : warnAtMostEveryMinute("rate-limit counts unavailable from the cluster's primary; letting attempts through"),
    clusterWorker,
  });
  const cache = createCache({
    redis,
    prefix: options.redisPrefix ?? "nb",
    ...options.cache,
    onError: warnRedis,
    clusterWorker,
  });
  const mailer = createMailer({
    smtpUrl: config.smtpUrl,
    from: config.mailFrom,
    outboxDir: path.join(config.dataDir, "outbox"),
    logger,
  });
  const storage = createStorage(config.storageUrl);
  const deps: CoreDeps = {
    config,
    db,
    mailer,
    storage,
    passwords: createPasswordHasher(),
    limits,
    cache,
    logger,
    revisions: options.revisions ?? true,
  };

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
