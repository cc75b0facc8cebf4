// Starts Notebox on a port and stops it gracefully: stop accepting, finish in-flight requests,
// close pools.
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import type { Config } from "@notebox/config";
import { purgeExpired } from "@notebox/core";
import { createApp } from "./app";
import { createRuntime, type Runtime, type RuntimeOptions } from "./runtime";
import { loadWebApp } from "./web";

export interface RunningServer {
  url: string;
  port: number;
  runtime: Runtime;
  /** Drains and closes everything; resolves when the process could exit. */
  close(): Promise<void>;
}

export interface StartOptions extends RuntimeOptions {
  webRoot?: string;
  host?: string;
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const runtime = await createRuntime(config, options);
  const { deps, redis } = runtime;
  let draining = false;
  const web = loadWebApp(options.webRoot);
  if (!web) deps.logger.warn("web app not built: serving the API only (run `npm run build`)");

  const app = createApp({
    deps,
    web,
    isReady: () => !draining,
    extraReadinessChecks: redis ? { redis: async () => (await redis.ping().catch(() => null)) === "PONG" } : {},
  });

  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: options.host }, () => resolve(s as Server));
  });
  server.keepAliveTimeout = 65_000;
  const port = (server.address() as AddressInfo).port;
  const url = `http://localhost:${port}`;

  // Every instance sweeps; the deletes are idempotent, so several instances do no harm.
  const sweep = () =>
    purgeExpired({ deps }).then(
      (removed) => deps.logger.debug({ removed }, "expired rows purged"),
      (error: unknown) => deps.logger.warn({ err: error }, "purge of expired rows failed"),
    );
  let sweeping = sweep();
  const sweeper = setInterval(() => {
    sweeping = sweep();
  }, 60 * 60 * 1000);
  sweeper.unref();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      draining = true;
      clearInterval(sweeper);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await sweeping;
      await runtime.close();
    })());

  return { url, port, runtime, close };
}
