// Starts Notebox on a port (and /metrics on a port of its own when METRICS_PORT is set) and stops
// it gracefully: stop accepting, finish in-flight requests, close pools.
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { ConfigError, type Config } from "@notebox/config";
import { finishAccountDeletions, purgeExpired, purgeOldTrash, sweepStorage, thinRevisions } from "@notebox/core";
import { createApp, type AppOptions } from "./app";
import { createMetrics, metricsApp } from "./metrics";
import { pullStream } from "./routes/streams";
import { createRuntime, type Runtime, type RuntimeOptions } from "./runtime";
import { loadWebApp } from "./web";

/** Responses whose bodies are streamed for a long time: file downloads and note exports. */
const STREAMED_ROUTES = /^\/api\/v1\/(files\/[^/]+\/content|notes\/export)$/;

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

interface StartOptions extends RuntimeOptions {
  webRoot?: string;
  host?: string;
  extendApp?: AppOptions["extendApp"];
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const runtime = await createRuntime(config, options);
  const { deps, redis } = runtime;
  let draining = false;
  const web = loadWebApp(options.webRoot);
  if (!web) deps.logger.warn("web app not built: serving the API only (run `npm run build`)");

  const metrics = createMetrics(deps);
  const app = createApp({
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

  // Handlers still running, including ones whose client has gone: shutdown waits for them
  // before closing the pools they use.
  let inFlight = 0;
  let settled: (() => void) | null = null;
  const finished = () => {
    if (--inFlight === 0) settled?.();
  };
  const fetch = async (request: Request, env: unknown): Promise<Response> => {
    inFlight++;
    let streaming = false;
    try {
      const response = await app.fetch(request, env);
      if (draining) response.headers.set("Connection", "close");
      // A download or an export is in flight until its last byte is sent, not when the handler returns.
      if (response.body && STREAMED_ROUTES.test(new URL(request.url).pathname)) {
        streaming = true;
        return new Response(pullStream(response.body, { onEnd: finished }), response);
      }
      return response;
    } finally {
      if (!streaming) finished();
    }
  };

  // One listener per process: `notebox serve` has no cluster mode, so a process is an instance and
  // each instance is scraped on its own. Were workers added, only the primary should listen here,
  // answering with prom-client's AggregatorRegistry over its workers: through a port shared by
  // cluster each scrape would reach one random worker, and every counter would jump between
  // workers' values.
  let metricsServer: Server | undefined;
  if (config.metricsPort !== undefined) {
    try {
      metricsServer = await listen(metricsApp(metrics).fetch, config.metricsPort, config.metricsHost);
    } catch (error) {
      await runtime.close();
      throw new ConfigError([
        `METRICS_PORT: cannot listen on ${config.metricsHost}:${config.metricsPort} (${(error as Error).message})`,
      ]);
    }
  }

  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch, port: config.port, hostname: options.host }, () => resolve(s as Server));
  });
  server.keepAliveTimeout = 65_000;
  const port = (server.address() as AddressInfo).port;
  const url = `http://localhost:${port}`;
  const metricsUrl =
    metricsServer &&
    `http://${hostForUrl(config.metricsHost)}:${(metricsServer.address() as AddressInfo).port}/metrics`;

  // Every instance sweeps; the deletes are idempotent, so several instances do no harm.
  const sweep = () =>
    Promise.all([
      purgeExpired({ deps }),
      purgeOldTrash({ deps }),
      sweepStorage({ deps }),
      finishAccountDeletions({ deps }),
      thinRevisions({ deps }),
    ]).then(
      ([removed, trashedNotes, storage, deletedAccounts, revisions]) =>
        deps.logger.debug({ removed, trashedNotes, storage, deletedAccounts, revisions }, "expired rows purged"),
      (error: unknown) => deps.logger.warn({ err: error }, "purge of expired rows failed"),
    );
  let sweeping = sweep();
  const sweeper = setInterval(
    () => {
      sweeping = sweep();
    },
    60 * 60 * 1000,
  );
  sweeper.unref();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      draining = true;
      clearInterval(sweeper);
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
      if (metricsServer) await closeNow(metricsServer);
      await sweeping;
      await runtime.close();
    })());

  return { url, port, metricsUrl, runtime, close };
}

/** Listens on `port` of `hostname`, rejecting when the address cannot be had (in use, unknown). */
function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  port: number,
  hostname: string,
): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch, port, hostname }, () => {
      s.off("error", reject);
      resolve(s as Server);
    });
    s.once("error", reject);
  });
}

/** Stops a listener that holds no work worth waiting for: open scrapes are cut. */
function closeNow(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}

/** A host as it goes in a URL: IPv6 addresses in brackets. */
const hostForUrl = (host: string) => (host.includes(":") ? `[${host}]` : host);
