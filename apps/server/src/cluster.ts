// `notebox serve` with WORKERS > 1: a primary process and that many workers sharing PORT through
// node:cluster. Each worker runs this same program again and serves requests like a server on
// its own (server.ts), except for what the primary does once for all of them: it applies the
// migrations before forking, keeps the rate-limit counts and relays the cache changes of all
// workers (without Redis; packages/core limits.ts and cache.ts), answers /metrics for the whole
// cluster, names the one worker that runs the hourly sweep, starts a worker again when one dies,
// and on SIGTERM drains them all.
import cluster, { type Worker } from "node:cluster";
import type { Config } from "@notebox/config";
import { relayCacheChanges, serveClusterLimits } from "@notebox/core";
import { openDatabase } from "@notebox/db";
import type { Logger } from "pino";
import { createClusterMetrics, startMetricsListener, type MetricsListener } from "./metrics";
import { createLogger } from "./runtime";

/** Longer than a worker's own drain (25 s, then 1 s for idle connections): past it, it is killed. */
const WORKER_STOP_TIMEOUT_MS = 30_000;
const RESTART_DELAY_MS = 1_000;
const MAX_RESTART_DELAY_MS = 30_000;
/** A worker that exits sooner than this after it was started failed to run: the next one waits longer. */
const STABLE_AFTER_MS = 30_000;
/** The primary's aggregation waits up to 5 s for each worker; a worker asking waits a little more. */
const SCRAPE_TIMEOUT_MS = 10_000;

const CHANNEL = "notebox:cluster";

/**
 * `sweep`: the primary tells a worker that it runs the hourly sweep from now on. `scrape`: a
 * worker asks the primary for the cluster's metrics (for the main port's /metrics), answered by
 * `scraped` with the text, or null when they could not be collected.
 */
type ClusterMessage =
  | { channel: typeof CHANNEL; type: "sweep" }
  | { channel: typeof CHANNEL; type: "scrape"; id: number }
  | { channel: typeof CHANNEL; type: "scraped"; id: number; text: string | null };

const isClusterMessage = (message: unknown): message is ClusterMessage =>
  typeof message === "object" && message !== null && (message as ClusterMessage).channel === CHANNEL;

export interface RunningPrimary {
  url: string;
  port: number;
  /** Where the METRICS_PORT listener serves the cluster's `/metrics`; unset without METRICS_PORT. */
  metricsUrl?: string;
  /** Drains every worker; rejects when one had to be killed because it did not finish in time. */
  close(): Promise<void>;
}

/** Runs the primary: resolves once all `config.workers` workers are listening. */
export async function startPrimary(
  config: Config,
  { logger = createLogger(config) }: { logger?: Logger } = {},
): Promise<RunningPrimary> {
  // Once, before any worker exists: workers open the database without migrating (runtime.ts).
  const db = await openDatabase({ url: config.databaseUrl });
  await db.close();

  serveClusterLimits();
  relayCacheChanges();
  const metrics = createClusterMetrics(config);
  const metricsListener: MetricsListener | undefined =
    config.metricsPort === undefined ? undefined : await startMetricsListener(config, metrics.handler);

  const startedAt = new Map<number, number>();
  const listening = new Set<number>();
  /** The worker that runs the hourly sweep: one at a time is enough (server.ts). */
  let sweeper: Worker | undefined;
  let stopping = false;
  let quickExits = 0;
  const restarts = new Set<NodeJS.Timeout>();

  const fork = () => {
    const worker = cluster.fork();
    startedAt.set(worker.id, Date.now());
  };
  const giveSweepTo = (worker: Worker) => {
    // While stopping, or to a worker already on its way out (its channel closed), there is nobody
    // to hand the duty to; a worker that goes just after hands it on again from its exit.
    if (stopping || !worker.isConnected()) return;
    sweeper = worker;
    worker.send({ channel: CHANNEL, type: "sweep" } satisfies ClusterMessage, (error: Error | null) => {
      if (error) logger.debug({ err: error, worker: worker.id }, "sweep duty not delivered");
    });
  };

  let port = 0;
  let started: () => void = () => {};
  let failed: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    started = resolve;
    failed = reject;
  });
  let starting = true;

  cluster.on("listening", (worker, address) => {
    if (listening.has(worker.id)) return;
    listening.add(worker.id);
    port = address.port;
    metrics.workers.set(listening.size);
    logger.info({ worker: worker.id, workerPid: worker.process.pid }, `worker ${worker.id} is serving`);
    if (!sweeper) giveSweepTo(worker);
    if (starting && listening.size === config.workers) {
      starting = false;
      started();
    }
  });

  cluster.on("exit", (worker, code, signal) => {
    listening.delete(worker.id);
    metrics.workers.set(listening.size);
    if (sweeper === worker) {
      sweeper = undefined;
      const next = Object.values(cluster.workers ?? {}).find((w) => w && listening.has(w.id));
      if (next) giveSweepTo(next);
    }
    if (stopping) return;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (starting) {
      failed(new Error(`worker ${worker.id} exited with ${how} before it was listening`));
      return;
    }
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    quickExits = lived < STABLE_AFTER_MS ? quickExits + 1 : 0;
    const delay = Math.min(RESTART_DELAY_MS * 2 ** quickExits, MAX_RESTART_DELAY_MS);
    logger.error(
      { worker: worker.id, workerPid: worker.process.pid, code, signal },
      `worker ${worker.id} exited with ${how}; starting another in ${delay / 1000} s`,
    );
    const timer = setTimeout(() => {
      restarts.delete(timer);
      metrics.restarts.inc();
      fork();
    }, delay);
    restarts.add(timer);
  });

  cluster.on("message", (worker, message: unknown) => {
    if (!isClusterMessage(message) || message.type !== "scrape") return;
    void metrics.scrape().then(
      (text) => worker.isConnected() && worker.send({ channel: CHANNEL, type: "scraped", id: message.id, text }),
      () => worker.isConnected() && worker.send({ channel: CHANNEL, type: "scraped", id: message.id, text: null }),
    );
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      stopping = true;
      for (const timer of restarts) clearTimeout(timer);
      // Each worker drains as a server on its own does on SIGTERM (server.ts), and exits.
      const stopped = Object.values(cluster.workers ?? {}).map(
        (worker) =>
          new Promise<boolean>((resolve) => {
            if (!worker || worker.isDead()) return resolve(true);
            const timer = setTimeout(() => {
              worker.process.kill("SIGKILL");
              resolve(false);
            }, WORKER_STOP_TIMEOUT_MS);
            worker.once("exit", () => {
              clearTimeout(timer);
              resolve(true);
            });
            worker.process.kill("SIGTERM");
          }),
      );
      const finished = await Promise.all(stopped);
      await metricsListener?.close();
      if (finished.includes(false)) {
        throw new Error(`a worker was still draining after ${WORKER_STOP_TIMEOUT_MS / 1000} s and was killed`);
      }
    })());

  for (let i = 0; i < config.workers; i++) fork();
  try {
    await ready;
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  return { url: `http://localhost:${port}`, port, metricsUrl: metricsListener?.url, close };
}

/** What a worker gets from its primary. */
export interface ClusterLink {
  /** Runs `start` once this worker is to run the hourly sweep (at once if it already is). */
  onSweepDuty(start: () => void): void;
  /** The whole cluster's metrics, aggregated by the primary. */
  aggregate(): Promise<string>;
}

/** A worker's side of the messages with its primary; call once, before listening. */
export function joinCluster(): ClusterLink {
  let sweepDuty = false;
  let startSweeping: (() => void) | undefined;
  const scrapes = new Map<number, (text: string | null) => void>();
  let lastScrape = 0;
  process.on("message", (message: unknown) => {
    if (!isClusterMessage(message)) return;
    if (message.type === "sweep") {
      sweepDuty = true;
      startSweeping?.();
    } else if (message.type === "scraped") scrapes.get(message.id)?.(message.text);
  });
  return {
    onSweepDuty(start) {
      startSweeping = start;
      if (sweepDuty) start();
    },
    aggregate() {
      const id = ++lastScrape;
      return new Promise<string>((resolve, reject) => {
        const answered = (text: string | null) => {
          clearTimeout(timer);
          scrapes.delete(id);
          if (text === null) reject(new Error("the primary could not collect the metrics"));
          else resolve(text);
        };
        const timer = setTimeout(() => answered(null), SCRAPE_TIMEOUT_MS);
        scrapes.set(id, answered);
        process.send?.({ channel: CHANNEL, type: "scrape", id } satisfies ClusterMessage);
      });
    },
  };
}
