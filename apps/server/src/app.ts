// The composition root's HTTP side, in reading order: request id and logging, security headers,
// origin check, body limits, health, tRPC, the web app, and the error handler.
import { trpcServer } from "@hono/trpc-server";
import { appRouter, createContext, HOME_PAGE_SIZE, MAX_BODY_BYTES, SESSION_COOKIE } from "@notebox/api";
import { AppError, type CoreDeps } from "@notebox/core";
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getCookie } from "hono/cookie";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { clientIp } from "./client-ip";
import { compressAnswers } from "./compression";
import { errorResponse } from "./http-errors";
import { noteExportRoutes } from "./routes/export";
import { createMetrics, metricsOnMainPort, type Metrics } from "./metrics";
import { requestScope } from "./runtime";
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

export type Env = { Variables: { requestId: string } };

export function createApp({
  deps,
  web,
  isReady = () => true,
  extraReadinessChecks = {},
  advisoryChecks = {},
  extendApp,
  metrics = createMetrics(deps),
}: AppOptions) {
  const { config, logger } = deps;
  const publicOrigin = new URL(config.publicUrl).origin;
  const app = new Hono<Env>();

  app.use(requestId({ limitLength: 64 }));
  // Everything logged while serving a request (core, mail, errors) carries its id, and so does
  // the response (the tRPC adapter's own Response would otherwise drop the header).
  app.use(async (c, next) => {
    await requestScope.run(c.var.requestId, next);
    c.header("X-Request-Id", c.var.requestId);
  });
  app.use(metrics.middleware);
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const ms = Math.round((performance.now() - started) * 10) / 10;
    const line = { method: c.req.method, path: c.req.path, status: c.res.status, ms };
    if (c.res.status >= 500) logger.error(line, "request failed");
    else logger.info(line, "request");
  });

  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", ...(web?.scriptHashes ?? [])],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:", "blob:"],
        mediaSrc: ["'self'", "blob:"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameSrc: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
      },
      referrerPolicy: "strict-origin-when-cross-origin",
      xFrameOptions: "DENY",
      crossOriginEmbedderPolicy: false,
      strictTransportSecurity: config.secureCookies ? "max-age=31536000; includeSubDomains" : false,
      // A download sets its own sandbox CSP; keep it.
      overwrite: false,
    }),
  );

  app.use("/api/*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  });

  // Cookies ride along on cross-site requests; a state-changing request carrying ours must come
  // from our own origin. Bearer-token callers carry no cookie and are not affected.
  app.use(async (c, next) => {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD" || method === "OPTIONS") return next();
    if (getCookie(c, SESSION_COOKIE) === undefined) return next();
    if (c.req.header("origin") === publicOrigin) return next();
    return c.json(
      { error: { code: "FORBIDDEN", message: "This request did not come from the Notebox web app." } },
      403,
    );
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
    "/api/v1/trpc/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      // The rest of the body is never read: close the connection rather than reuse it mid-stream.
      onError: (c) => errorResponse(c, new AppError("PAYLOAD_TOO_LARGE", "The request is too large."), logger),
    }),
  );
  app.use("/api/v1/trpc/*", compressAnswers());
  app.use(
    "/api/v1/trpc/*",
    trpcServer({
      endpoint: "/api/v1/trpc",
      router: appRouter,
      // The adapter types its context as a plain record; the router itself is typed by Context.
      createContext: async (opts, c) =>
        (await createContext({
          deps,
          req: opts.req,
          cookies: getCookie(c),
          resHeaders: opts.resHeaders,
          ip: clientIp(c, config.trustProxy),
          requestId: (c as Context<Env>).var.requestId,
          calls: opts.info.calls.length,
        })) as unknown as Record<string, unknown>,
      onError: ({ error, path }) => {
        if (error.code === "INTERNAL_SERVER_ERROR") {
          logger.error({ err: error.cause ?? error, path }, "unexpected error in procedure");
        }
      },
    }),
  );

  extendApp?.(app, deps);

  app.route("/api/v1/files", fileRoutes(deps, metrics));
  app.route("/api/v1/notes", noteExportRoutes(deps));
  app.route("/api/v1/auth/oidc", ssoRoutes(deps, config.trustProxy));

  app.all("/api/*", (c) => errorResponse(c, new AppError("NOT_FOUND", "No such API route."), logger));
  web?.mount(app, (c) => firstPaint(c, { deps, trustProxy: config.trustProxy }));

  app.notFound((c) => errorResponse(c, new AppError("NOT_FOUND", "Not found."), logger));
  app.onError((error, c) => errorResponse(c, error, logger));
  return app;
}

/**
 * What a signed-in person's first paint shows, answered as the API would: their account and, on
 * the home page in its default order, the first page of notes. Null for a visitor, or when it
 * cannot be had (the page then asks as usual).
 */
async function firstPaint(c: Context<Env>, { deps, trustProxy }: { deps: CoreDeps; trustProxy: boolean }) {
  if (!getCookie(c, SESSION_COOKIE)) return null;
  try {
    const resHeaders = new Headers();
    const ctx = await createContext({
      deps,
      req: c.req.raw,
      cookies: getCookie(c),
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
