// The composition root's HTTP side, in reading order: request id and security headers, logging,
// origin check, body limits, health, tRPC, the web app, and the error handler; and the listener
// that sends tRPC's JSON calls to the lean endpoint instead (trpc-endpoint.ts).
import { trpcServer } from "@hono/trpc-server";
import {
  appRouter,
  createContext,
  HOME_PAGE_SIZE,
  MAX_BODY_BYTES,
  SESSION_COOKIE,
  type Context as TrpcContext,
} from "@notebox/api";
import { AppError, requestDeps, type CoreDeps } from "@notebox/core";
import { getRequestListener, type HttpBindings } from "@hono/node-server";
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { clientIp } from "./client-ip";
import { compressAnswers } from "./compression";
import { errorResponse, requestTooLarge } from "./http-errors";
import {
  API_CACHE_CONTROL,
  cookiesOf,
  CROSS_SITE_REFUSAL,
  crossSiteRefused,
  logProcedureError,
  logRequest,
  requestIdFrom,
  securityHeaders,
  TRPC_ENDPOINT,
} from "./http-rules";
import { trpcEndpoint, type Handler } from "./trpc-endpoint";
import { noteExportRoutes } from "./routes/export";
import { createMetrics, metricsOnMainPort, type Metrics } from "./metrics";
import { fileRoutes } from "./routes/files";
import { ssoRoutes } from "./routes/sso";
import type { WebApp } from "./web";

export interface AppOptions {
  deps: CoreDeps;
  web: WebApp | null;
  /** False while draining on SIGTERM: /readyz answers 503 so the balancer stops sending. */
  isReady?: () => boolean;
  /** Checks that must pass for /readyz to answer 200 (the database is always one). */
  extraReadinessChecks?: Record<string, () => Promise<boolean>>;
  /** Checks /readyz reports without failing on them: Redis is a cache, and requests succeed without it. */
  advisoryChecks?: Record<string, () => Promise<boolean>>;
  /** Mounts extra routes after tRPC and before the web app and the 404s (benchmarks use it). */
  extendApp?: (app: Hono<Env>, deps: CoreDeps) => void;
  /** Where requests are recorded; the server shares it with the METRICS_PORT listener. */
  metrics?: Metrics;
}

/** What a request carries through the Hono app: its id, and the deps its work uses (core's requestDeps). */
export type Env = { Bindings: HttpBindings; Variables: { requestId: string; deps: CoreDeps } };

/**
 * The request listener of the main port: tRPC's JSON calls go straight to the lean endpoint
 * (trpc-endpoint.ts), everything else (and what only tRPC's own adapter serves) to the Hono app.
 */
export async function createHandler(options: AppOptions): Promise<Handler> {
  const security = await securityHeaders(options.deps.config, options.web);
  const metrics = options.metrics ?? createMetrics(options.deps);
  const hono = getRequestListener(createApp({ ...options, metrics, security }).fetch);
  return trpcEndpoint({ deps: options.deps, metrics, security, fallback: hono });
}

function createApp({
  deps,
  web,
  isReady = () => true,
  extraReadinessChecks = {},
  advisoryChecks = {},
  extendApp,
  metrics,
  security,
}: AppOptions & { metrics: Metrics; security: [string, string][] }) {
  const { config, logger } = deps;
  const publicOrigin = new URL(config.publicUrl).origin;
  const app = new Hono<Env>();

  // Everything logged while serving a request (core, mail, errors) carries its id, through the
  // deps its handlers use (`c.var.deps`), and so does the response (a handler's own Response would
  // otherwise drop the header). The security headers go on last: `c.header` makes a new Response,
  // and headers set on the one before would be lost.
  app.use(async (c, next) => {
    const id = requestIdFrom(c.req.header("X-Request-Id"));
    c.set("requestId", id);
    c.set("deps", requestDeps(deps, id));
    await next();
    c.header("X-Request-Id", id);
    const headers = c.res.headers;
    for (const [name, value] of security) if (!headers.has(name)) headers.set(name, value);
  });
  app.use(metrics.middleware);
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    logRequest(logger, started, {
      requestId: c.var.requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
    });
  });

  app.use("/api/*", async (c, next) => {
    await next();
    c.header("Cache-Control", API_CACHE_CONTROL);
  });

  app.use(async (c, next) => {
    const refused = crossSiteRefused(c.req.method, {
      hasSessionCookie: cookiesOf(c)[SESSION_COOKIE] !== undefined,
      origin: c.req.header("origin"),
      publicOrigin,
    });
    return refused ? c.json(CROSS_SITE_REFUSAL, 403) : next();
  });

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  // Registered either way: an unserved /metrics is a 404, not the web app's index.html.
  app.get("/metrics", metricsOnMainPort(config) ? metrics.handler : (c) => c.notFound());
  app.get("/readyz", async (c) => {
    const checks: Record<string, boolean> = { draining: !isReady(), database: await deps.db.ping() };
    for (const [name, check] of Object.entries(extraReadinessChecks)) checks[name] = await check();
    const ready = !checks.draining && Object.entries(checks).every(([name, ok]) => name === "draining" || ok);
    for (const [name, check] of Object.entries(advisoryChecks)) checks[name] = await check();
    return c.json({ status: ready ? "ready" : "not_ready", checks }, ready ? 200 : 503);
  });

  app.use(
    `${TRPC_ENDPOINT}/*`,
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => errorResponse(c, requestTooLarge(), (c as Context<Env>).var.deps.logger),
    }),
  );
  app.use(`${TRPC_ENDPOINT}/*`, compressAnswers());
  app.use(
    `${TRPC_ENDPOINT}/*`,
    trpcServer({
      endpoint: TRPC_ENDPOINT,
      router: appRouter,
      // The adapter types its context as a plain record; the router itself is typed by Context.
      createContext: async (opts, c) =>
        (await createContext({
          deps: (c as Context<Env>).var.deps,
          authorization: opts.req.headers.get("authorization"),
          userAgent: opts.req.headers.get("user-agent"),
          input: opts.req.method === "GET" ? new URL(opts.req.url).searchParams.get("input") : await c.req.text(),
          cookies: cookiesOf(c),
          resHeaders: opts.resHeaders,
          ip: clientIp(c, config.trustProxy),
          requestId: (c as Context<Env>).var.requestId,
          calls: opts.info.calls.length,
        })) as unknown as Record<string, unknown>,
      // Without a context (its creation failed), the line goes out without the request's id.
      onError: (failure) =>
        logProcedureError((failure.ctx as Partial<TrpcContext> | undefined)?.deps?.logger ?? logger, failure),
    }),
  );

  extendApp?.(app, deps);

  app.route("/api/v1/files", fileRoutes(metrics));
  app.route("/api/v1/notes", noteExportRoutes());
  app.route("/api/v1/auth/oidc", ssoRoutes(config));

  app.all("/api/*", (c) => errorResponse(c, new AppError("NOT_FOUND", "No such API route."), c.var.deps.logger));
  web?.mount(app, (c) => firstPaint(c, config.trustProxy));

  app.notFound((c) => errorResponse(c, new AppError("NOT_FOUND", "Not found."), c.var.deps.logger));
  app.onError((error, c) => errorResponse(c, error, c.var.deps.logger));
  return app;
}

/**
 * What a signed-in person's first paint shows, answered as the API would: their account and, on
 * the home page in its default order, the first page of notes. Null for a visitor, or when it
 * cannot be had (the page then asks as usual).
 */
async function firstPaint(c: Context<Env>, trustProxy: boolean) {
  if (!cookiesOf(c)[SESSION_COOKIE]) return null;
  const deps = c.var.deps;
  try {
    const resHeaders = new Headers();
    const ctx = await createContext({
      deps,
      authorization: c.req.header("authorization") ?? null,
      userAgent: c.req.header("user-agent") ?? null,
      input: null,
      cookies: cookiesOf(c),
      resHeaders,
      ip: clientIp(c, trustProxy),
      requestId: c.var.requestId,
      calls: 1,
    });
    // A renewed or cleared session cookie goes out with the page.
    for (const cookie of resHeaders.getSetCookie()) c.header("Set-Cookie", cookie, { append: true });
    const caller = appRouter.createCaller(ctx);
    const me = await caller.auth.me();
    if (!me) return null;
    const home = c.req.path === "/" && !c.req.query("q") && (c.req.query("sort") ?? "updated") === "updated";
    const ready = !me.mustChangePassword && !me.secondFactorSetupRequired;
    const notes = home && ready ? await caller.notes.list({ sort: "updated", limit: HOME_PAGE_SIZE }) : undefined;
    return { me, ...(notes ? { notes } : {}) };
  } catch (error) {
    deps.logger.debug({ err: error }, "first paint data left out");
    return null;
  }
}
