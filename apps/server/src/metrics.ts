// Prometheus metrics: request durations by route and tRPC procedure, the database pool, bytes
// moved through the file routes, cache hits and misses, and the process defaults (memory, event loop lag, GC).
import type { CoreDeps } from "@notebox/core";
import type { MiddlewareHandler } from "hono";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export interface Metrics {
  registry: Registry;
  middleware: MiddlewareHandler;
  bytesUploaded: Counter;
  bytesDownloaded: Counter;
}

/** The label for a request: the tRPC procedure(s), or the matched route pattern. */
function routeLabel(path: string, routePath: string): string {
  const trpc = /^\/api\/v1\/trpc\/([^?]+)/.exec(path);
  if (trpc) return `trpc:${decodeURIComponent(trpc[1]!)}`.slice(0, 200);
  return routePath === "*" || routePath === "/*" ? "static" : routePath;
}

export function createMetrics(deps: CoreDeps): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "notebox_" });

  const duration = new Histogram({
    name: "notebox_http_request_duration_seconds",
    help: "HTTP request duration by route (tRPC procedure for the API) and status",
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
      const pool = (deps.db.sequelize.connectionManager as unknown as { pool?: { size?: number; available?: number; using?: number; waiting?: number } }).pool;
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

  const middleware: MiddlewareHandler = async (c, next) => {
    const end = duration.startTimer();
    await next();
    end({ method: c.req.method, route: routeLabel(c.req.path, c.req.routePath), status: String(c.res.status) });
  };
  return { registry, middleware, bytesUploaded, bytesDownloaded };
}
