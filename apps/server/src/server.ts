// Starts Notebox on a port (and /metrics on a port of its own when METRICS_PORT is set) and stops
// it gracefully: stop accepting, finish in-flight requests, close pools. Started in a worker of
// `notebox serve`'s cluster, it leaves to the primary what the primary does for all workers.
import cluster from "node:cluster";
import type { AddressInfo } from "node:net";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Config } from "@notebox/config";
import {
  finishAccountDeletions,
  optimizeSearch,
  purgeExpired,
  purgeOldTrash,
  sweepStorage,
  thinRevisions,
} from "@notebox/core";
import { createHandler, type AppOptions } from "./app";
import { joinCluster, startPrimary, type RunningPrimary } from "./cluster";
import { createMetrics, startMetricsListener, type MetricsListener } from "./metrics";
import { createRuntime, type Runtime, type RuntimeOptions } from "./runtime";
import { loadWebApp } from "./web";

/** How long SIGTERM waits for in-flight requests (Kubernetes allows 30 s by default). */
const DRAIN_TIMEOUT_MS = 25_000;

export interface RunningServer {
  url: string;
  port: number;
  /** Where the METRICS_PORT listener serves `/metrics`; unset without METRICS_PORT. */
  metricsUrl?: string;
  runtime: Runtime;
  /** Drains and closes everything; resolves when the process could exit. */
  close(): Promise<void>;
}

interface StartOptions extends Omit<RuntimeOptions, "clusterWorker"> {
  webRoot?: string;
  host?: string;
  extendApp?: AppOptions["extendApp"];
}

/**
 * What `notebox serve` runs: with WORKERS = 1 the server, in this process; with more, the
 * cluster's primary (cluster.ts), which forks workers that run the same program again and so come
 * back here, where they start the server (sharing its port through node:cluster).
 */
export function startServing(config: Config, options: StartOptions = {}): Promise<RunningServer | RunningPrimary> {
  return config.workers > 1 && cluster.isPrimary ? startPrimary(config, options) : startServer(config, options);
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const primary = cluster.isWorker ? joinCluster() : null;
  const runtime = await createRuntime(config, { ...options, clusterWorker: primary !== null });
  const { deps, redis } = runtime;
  let draining = false;
  const web = loadWebApp(options.webRoot);
  if (!web) deps.logger.warn("web app not built: serving the API only (run `npm run build`)");

  const metrics = createMetrics(deps, primary ? { cluster: primary } : {});
  const handle = await createHandler({
    deps,
    metrics,
    web,
    isReady: () => !draining,
    extraReadinessChecks: { storage: () => deps.storage.ping() },
    // Reported, but an instance without Redis still serves (slower): taking every instance out of
    // the balancer because the cache is down would turn a cache outage into a full one.
    advisoryChecks: redis ? { redis: async () => (await redis.ping().catch(() => null)) === "PONG" } : {},
    extendApp: options.extendApp,
  });

  // Requests in flight: until the handler has returned (it may still be using the database after
  // its client has gone) and the answer's last byte is sent (a download or an export is in flight
  // until then, long after its handler returned). Shutdown waits for both before closing the pools.
  let inFlight = 0;
  let settled: (() => void) | null = null;
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    let pending = 2;
    const finished = () => {
      if (--pending === 0 && --inFlight === 0) settled?.();
    };
    res.once("close", finished);
    if (draining) res.setHeader("Connection", "close");
    Promise.resolve()
      .then(() => handle(req, res))
      .catch((error: unknown) => {
        deps.logger.error({ err: error }, "request handler failed");
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end();
      })
      .finally(finished);
  };

  // In a cluster only the primary listens here, answering for all workers (cluster.ts): through
  // a port its workers shared, each scrape would reach one of them, and every counter would jump
  // between workers' values.
  let metricsListener: MetricsListener | undefined;
  if (config.metricsPort !== undefined && !primary) {
    try {
      metricsListener = await startMetricsListener(config, metrics.handler);
    } catch (error) {
      await runtime.close();
      throw error;
    }
  }

  const server = createServer(listener);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await metricsListener?.close();
    await runtime.close();
    throw error;
  }
  server.keepAliveTimeout = 65_000;
  const port = (server.address() as AddressInfo).port;
  const url = `http://localhost:${port}`;

  // Every instance sweeps; the deletes are idempotent, so several instances do no harm. Within a
  // cluster, one worker at a time sweeps for all: the one the primary names. Shutdown stops the
  // full-text index upkeep after its statement under way.
  const sweepStop = new AbortController();
  let searchUpkeepOffWarned = false;
  const sweep = () =>
    Promise.all([
      purgeExpired({ deps }),
      purgeOldTrash({ deps }),
      sweepStorage({ deps }),
      finishAccountDeletions({ deps }),
      thinRevisions({ deps }),
      optimizeSearch({ deps, signal: sweepStop.signal }),
    ]).then(
      ([removed, trashedNotes, storage, deletedAccounts, revisions, searchIndex]) => {
        deps.logger.debug(
          { removed, trashedNotes, storage, deletedAccounts, revisions, searchIndex },
          "expired rows purged",
        );
        if (searchIndex.state === "off" && !searchUpkeepOffWarned) {
          searchUpkeepOffWarned = true;
          deps.logger.warn(
            "the database server's innodb_optimize_fulltext_only is OFF, so Notebox cannot keep its full-text index lean and search slows down as notes are edited: turn it ON (docs/operations.md)",
          );
        }
      },
      (error: unknown) => deps.logger.warn({ err: error }, "purge of expired rows failed"),
    );
  let sweeping: Promise<void> = Promise.resolve();
  let sweeper: NodeJS.Timeout | undefined;
  const startSweeping = () => {
    if (draining || sweeper) return;
    sweeping = sweep();
    sweeper = setInterval(
      () => {
        sweeping = sweep();
      },
      60 * 60 * 1000,
    );
    sweeper.unref();
  };
  if (primary) primary.onSweepDuty(startSweeping);
  else startSweeping();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      draining = true;
      clearInterval(sweeper);
      sweepStop.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => (settled = resolve)),
          new Promise((resolve) => setTimeout(resolve, DRAIN_TIMEOUT_MS).unref()),
        ]);
      }
      server.closeIdleConnections();
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      server.closeAllConnections();
      // Kept until the requests have drained, so a scrape can still see the shutdown.
      await metricsListener?.close();
      await sweeping;
      await runtime.close();
    })());

  return { url, port, metricsUrl: metricsListener?.url, runtime, close };
}
