// Prometheus metrics: request durations by route and tRPC procedure, the database pool, bytes
// moved through the file routes, cache hits and misses, and the process defaults (memory, event loop lag, GC).
// Every label value comes from a set the server defines, never from the request, and the
// exposition is not public: a listener of its own (METRICS_PORT) or a bearer token (METRICS_TOKEN).
// With WORKERS > 1 every scrape answers for the whole cluster: the primary aggregates its workers'
// registries (prom-client's AggregatorRegistry), counters and histograms by sum.
import { createHash, timingSafeEqual } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { appRouter } from "@notebox/api";
import { ConfigError, type Config } from "@notebox/config";
import type { CoreDeps } from "@notebox/core";
import { TRPC_ENDPOINT } from "./http-rules";
import { Hono, type Handler, type MiddlewareHandler } from "hono";
import {
  AggregatorRegistry,
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  prometheusContentType,
  Registry,
  type Aggregator,
} from "prom-client";

export interface Metrics {
  registry: Registry;
  middleware: MiddlewareHandler;
  /** Records a request served outside the Hono app: its duration since `started`, under each route label. */
  observe(method: string, routes: string[], status: number, started: number): void;
  /** `GET /metrics`: the Prometheus text, behind the bearer token when METRICS_TOKEN is set. */
  handler: Handler;
  bytesUploaded: Counter;
  bytesDownloaded: Counter;
}

/**
 * Whether the main port serves /metrics: only behind METRICS_TOKEN, and never when METRICS_PORT
 * gives them a listener of their own (the public port then has no reason to expose them at all).
 */
export function metricsOnMainPort(config: Config): boolean {
  return config.metricsToken !== undefined && config.metricsPort === undefined;
}

const TRPC_PREFIX = `${TRPC_ENDPOINT}/`;
/** Every procedure the router serves, keyed as in URLs ("auth.login", "notes.trash.list"). */
const PROCEDURES: ReadonlySet<string> = new Set(Object.keys(appRouter._def.procedures));
const UNKNOWN_PROCEDURE = "trpc:unknown";

/**
 * The labels for a tRPC request, read the way tRPC reads the path (decoded, then split on commas
 * when batched); a name the router does not know is `trpc:unknown`, whatever it is. A batch
 * observes each distinct procedure it names once, with the batch's duration and status: callers
 * (the web app batches) still see per-procedure latency, and a request adds at most one
 * observation per procedure, so no combination of names becomes a series of its own.
 */
export function procedureLabels(encodedPath: string, batch: boolean): string[] {
  const key = `${batch ? 1 : 0}${encodedPath}`;
  let labels = labelsOf.get(key);
  if (!labels) {
    labels = readLabels(encodedPath, batch);
    if (labels.includes(UNKNOWN_PROCEDURE)) return labels;
    if (labelsOf.size >= LABELS_KEPT) labelsOf.clear();
    labelsOf.set(key, labels);
  }
  return labels;
}

/**
 * procedureLabels' answers by path (after 1 for a batch, 0 for one call), as every request asks
 * again. Only paths of known procedures are kept (short ones, then); batches may still combine
 * them in many ways, so past LABELS_KEPT the memo starts over.
 */
const labelsOf = new Map<string, string[]>();
const LABELS_KEPT = 1024;

function readLabels(encodedPath: string, batch: boolean): string[] {
  let path: string;
  try {
    path = decodeURIComponent(encodedPath);
  } catch {
    return [UNKNOWN_PROCEDURE]; // tRPC itself refuses it as BAD_REQUEST
  }
  const names = batch ? path.split(",") : [path];
  return [...new Set(names.map((name) => (PROCEDURES.has(name) ? `trpc:${name}` : UNKNOWN_PROCEDURE)))];
}

/**
 * The label for any other request: the pattern of the route that answered, one of the few the app
 * registers (an unmatched path answers from a wildcard: `/api/*` or the web app's `*`), never the path.
 */
function routeLabel(routePath: string): string {
  return routePath === "*" || routePath === "/*" ? "static" : routePath;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest();

export interface MetricsOptions {
  /**
   * Set in a cluster's worker: its registry then goes into the primary's aggregation, and the
   * main port's /metrics answers with `aggregate()` (every worker's figures) rather than its own.
   */
  cluster?: { aggregate(): Promise<string> };
}

export function createMetrics(deps: CoreDeps, options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "notebox_" });
  // Summed over workers, the descriptors each process may still open would look plentiful:
  // aggregate to the busiest worker's count against the lowest limit instead.
  aggregateAs(registry, "notebox_process_open_fds", "max");
  aggregateAs(registry, "notebox_process_max_fds", "min");

  const duration = new Histogram({
    name: "notebox_http_request_duration_seconds",
    help: "HTTP request duration by route (for tRPC each procedure, once per batch naming it) and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const bytesUploaded = new Counter({
    name: "notebox_file_bytes_uploaded_total",
    help: "Bytes of files stored through uploads",
    registers: [registry],
  });
  const bytesDownloaded = new Counter({
    name: "notebox_file_bytes_downloaded_total",
    help: "Bytes of files sent to clients",
    registers: [registry],
  });
  new Gauge({
    name: "notebox_db_pool_connections",
    help: "Database pool connections by state (MySQL/MariaDB; SQLite has no pool)",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const pool = (
        deps.db.sequelize.connectionManager as unknown as {
          pool?: { size?: number; available?: number; using?: number; waiting?: number };
        }
      ).pool;
      if (!pool || typeof pool.size !== "number") return;
      this.set({ state: "total" }, pool.size);
      this.set({ state: "idle" }, pool.available ?? 0);
      this.set({ state: "in_use" }, pool.using ?? 0);
      this.set({ state: "waiting" }, pool.waiting ?? 0);
    },
  });

  new Counter({
    name: "notebox_cache_lookups_total",
    help: "Cache lookups by cache (list: note and file lists and searches; session: session validation) and outcome",
    labelNames: ["cache", "outcome"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [cache, outcomes] of Object.entries(deps.cache.stats())) {
        for (const [outcome, count] of Object.entries(outcomes)) this.inc({ cache, outcome }, count);
      }
    },
  });

  // `method` comes from the fixed list of methods Node's HTTP parser accepts.
  const observe = (method: string, routes: string[], status: number, started: number) => {
    const seconds = (performance.now() - started) / 1000;
    for (const route of routes) duration.observe({ method, route, status: String(status) }, seconds);
  };
  const middleware: MiddlewareHandler = async (c, next) => {
    const started = performance.now();
    await next();
    const { pathname, searchParams } = new URL(c.req.url);
    const routes = pathname.startsWith(TRPC_PREFIX)
      ? procedureLabels(pathname.slice(TRPC_PREFIX.length), searchParams.get("batch") === "1")
      : [routeLabel(c.req.routePath)];
    observe(c.req.method, routes, c.res.status, started);
  };

  const { cluster } = options;
  if (cluster) {
    AggregatorRegistry.setRegistries([registry]);
    // Constructing one is what makes a worker answer the primary's requests for its registry
    // (prometheus/client_js#747); the instance itself is not needed.
    new AggregatorRegistry();
  }
  const handler = metricsHandler(deps.config, cluster ? () => cluster.aggregate() : () => registry.metrics());

  return { registry, middleware, observe, handler, bytesUploaded, bytesDownloaded };
}

/** `GET /metrics`: the text `exposition` gives, behind the bearer token when METRICS_TOKEN is set. */
function metricsHandler(config: Config, exposition: () => Promise<string>): Handler {
  const expectedToken = config.metricsToken === undefined ? null : sha256(config.metricsToken);
  return async (c) => {
    if (expectedToken) {
      const presented = /^Bearer +(\S+) *$/i.exec(c.req.header("authorization") ?? "")?.[1];
      // Digests of equal length, so the comparison takes the same time whatever was presented.
      if (presented === undefined || !timingSafeEqual(sha256(presented), expectedToken)) {
        c.header("WWW-Authenticate", "Bearer");
        return c.json({ error: { code: "UNAUTHORIZED", message: "Send the metrics token as a bearer token." } }, 401);
      }
    }
    let text: string;
    try {
      text = await exposition();
    } catch {
      // In a cluster: a worker did not answer within the aggregation's 5 s (one just forked, say).
      return c.json({ error: { code: "UNAVAILABLE", message: "The metrics could not be collected." } }, 503);
    }
    c.header("Content-Type", prometheusContentType);
    return c.body(text);
  };
}

/** How a default metric combines across workers, where the sum prom-client assumes is wrong. */
function aggregateAs(registry: Registry, name: string, aggregator: Aggregator) {
  const metric = registry.getSingleMetric(name) as { aggregator?: Aggregator } | undefined;
  if (metric) metric.aggregator = aggregator;
}

/** The primary's metrics: its workers' registries aggregated, plus the cluster's own figures. */
export interface ClusterMetrics {
  /** `GET /metrics` for the METRICS_PORT listener. */
  handler: Handler;
  /** The text itself: also what a worker asks for when the main port serves /metrics. */
  scrape(): Promise<string>;
  workers: Gauge;
  restarts: Counter;
}

export function createClusterMetrics(config: Config): ClusterMetrics {
  const aggregator = new AggregatorRegistry();
  const own = new Registry();
  const workers = new Gauge({
    name: "notebox_workers",
    help: "Worker processes serving the main port",
    registers: [own],
  });
  const restarts = new Counter({
    name: "notebox_worker_restarts_total",
    help: "Workers started again after one exited unexpectedly",
    registers: [own],
  });
  const scrape = async () => `${await aggregator.clusterMetrics()}\n${await own.metrics()}`;
  return { handler: metricsHandler(config, scrape), scrape, workers, restarts };
}

export interface MetricsListener {
  /** Where it serves `/metrics`. */
  url: string;
  /** Stops it; open scrapes are cut, as they hold no work worth waiting for. */
  close(): Promise<void>;
}

/**
 * The METRICS_PORT listener on METRICS_HOST: `GET /metrics` answered by `handler`, and 404 for
 * anything else. An address it cannot have (in use, unknown) is a configuration error.
 */
export async function startMetricsListener(config: Config, handler: Handler): Promise<MetricsListener> {
  const app = new Hono();
  app.get("/metrics", handler);
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.metricsPort, hostname: config.metricsHost }, () => {
        s.off("error", reject);
        resolve(s as Server);
      });
      s.once("error", reject);
    });
  } catch (error) {
    throw new ConfigError([
      `METRICS_PORT: cannot listen on ${config.metricsHost}:${config.metricsPort} (${(error as Error).message})`,
    ]);
  }
  const host = config.metricsHost.includes(":") ? `[${config.metricsHost}]` : config.metricsHost;
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/metrics`,
    close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closed;
    },
  };
}
