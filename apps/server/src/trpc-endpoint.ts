// tRPC's JSON calls, answered straight from node:http. The Hono app serves them too, through
// tRPC's fetch adapter, and that is where this endpoint hands over whatever it does not take (HEAD,
// other methods, bodies that are not JSON, streamed answers): the adapter's Request, AbortSignal
// and Response objects and Hono's middleware cost more than the procedures of the hottest calls
// (notes.list, notes.get, session checks) themselves. What it does take, it answers as tRPC's
// resolveResponse does (same parser, same error shapes and statuses, the same `{result: {data}}`
// bodies), with the rules of http-rules.ts that every request is held to.
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  appRouter,
  createContext,
  MAX_BODY_BYTES,
  readCookies,
  SESSION_COOKIE,
  type Context,
  type CreateContextOptions,
} from "@notebox/api";
import { requestDeps, type CoreDeps } from "@notebox/core";
import { TRPCError } from "@trpc/server";
// The pieces tRPC's own adapters are built of: this endpoint is one more adapter, for the
// non-streaming JSON calls only, and follows resolveResponse (the version is pinned by the lockfile).
import {
  getErrorShape,
  getHTTPStatusCode,
  getRequestInfo,
  getTRPCErrorFromUnknown,
  defaultTransformer,
  transformTRPCResponse,
  urlPathToProcedurePath,
} from "@trpc/server/unstable-core-do-not-import";
import { clientIpFrom } from "./client-ip";
import { compressedJson, varyWithEncoding } from "./compression";
import { errorAnswer, requestTooLarge } from "./http-errors";
import {
  API_CACHE_CONTROL,
  CROSS_SITE_REFUSAL,
  crossSiteRefused,
  logProcedureError,
  logRequest,
  requestIdFrom,
  TRPC_ENDPOINT,
} from "./http-rules";
import type { Metrics } from "./metrics";
import { procedureLabels } from "./metrics";
import { callProcedure } from "./procedure-call";

const PREFIX = `${TRPC_ENDPOINT}/`;
const config = appRouter._def._config;
type RpcResult = { result: { data: unknown } } | { error: ReturnType<typeof getErrorShape> };

/** A request listener that says when it is done with the request. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
}

/** Whether a request is one this endpoint answers; the rest go to tRPC's fetch adapter in Hono. */
function isLeanCall(req: IncomingMessage): boolean {
  if (!req.url?.startsWith(PREFIX)) return false;
  const type = req.headers["content-type"]?.split(";", 1)[0]!.trim().toLowerCase();
  const json = type === "application/json";
  if (req.method === "GET") {
    if (type !== undefined && !json) return false;
  } else if (req.method !== "POST" || !json) return false;
  // A streamed (JSON Lines) answer is the adapter's.
  if (req.headers["trpc-accept"] !== undefined) return false;
  return !req.headers.accept?.split(",").some((t) => t.trim() === "application/jsonl");
}

/** The body, refused as too large before MAX_BODY_BYTES are held; null when the client went away. */
function readBody(req: IncomingMessage): Promise<string | null> {
  if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) return Promise.reject(requestTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners("data");
        req.pause();
        reject(requestTooLarge());
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks, size).toString("utf8")));
    // After 'end' these change nothing: the promise has settled.
    req.on("close", () => resolve(null));
    req.on("error", () => resolve(null));
  });
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch (cause) {
    throw new TRPCError({ code: "BAD_REQUEST", message: `Invalid URL-encoding in path "${path}"`, cause });
  }
}

/** The path and query of a request's target, which starts with PREFIX (`isLeanCall`). */
interface Target {
  path: string;
  query: URLSearchParams;
}

/**
 * The target split at its `?`: the path as sent (tRPC decodes it; a path it does not know answers
 * NOT_FOUND), the query as URLSearchParams. A WHATWG URL, which nothing here needs, was a few
 * microseconds of every call.
 */
function targetOf(url: string): Target {
  const q = url.indexOf("?");
  return q === -1
    ? { path: url, query: new URLSearchParams() }
    : { path: url.slice(0, q), query: new URLSearchParams(url.slice(q + 1)) };
}

/** A header of the request as one string (the shape tRPC's parser reads through `headers.get`). */
function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
}

export function trpcEndpoint({
  deps,
  metrics,
  security,
  fallback,
}: {
  deps: CoreDeps;
  metrics: Metrics;
  security: [string, string][];
  fallback: Handler;
}): Handler {
  const appConfig = deps.config;
  const publicOrigin = new URL(appConfig.publicUrl).origin;

  /** The calls of one request, run and answered as tRPC's resolveResponse answers JSON calls. */
  async function answerCalls(
    req: IncomingMessage,
    {
      target,
      id,
      deps,
      cookies,
      body,
    }: { target: Target; id: string; deps: CoreDeps; cookies: CreateContextOptions["cookies"]; body: string | null },
  ): Promise<Answer> {
    const method = req.method!;
    const resHeaders = new Headers();
    const headers: Answer["headers"] = { vary: "trpc-accept, accept", "content-type": "application/json" };
    // What tRPC's parser reads of a Request.
    const request = {
      method,
      url: `http://localhost${req.url}`,
      headers: {
        get: (name: string) => header(req, name.toLowerCase()),
        has: (name: string) => name.toLowerCase() in req.headers,
      },
      text: () => Promise.resolve(body ?? ""),
      signal: undefined,
    } as unknown as Request;
    let info: Awaited<ReturnType<typeof getRequestInfo>> | undefined;
    let ctx: Context | undefined;
    try {
      info = await getRequestInfo({
        req: request,
        path: urlPathToProcedurePath(
          decodePath(target.path.slice(PREFIX.length).replace(/\/+$/, "")),
          config.pathSeparator,
        ),
        router: appRouter,
        searchParams: target.query,
        headers: request.headers,
        url: null,
      });
      let ctxError: TRPCError | undefined;
      try {
        ctx = await createContext({
          deps,
          authorization: header(req, "authorization"),
          userAgent: header(req, "user-agent"),
          input: method === "GET" ? target.query.get("input") : body,
          cookies,
          resHeaders,
          ip: clientIpFrom(
            { forwardedFor: header(req, "x-forwarded-for") ?? undefined, socketAddress: req.socket.remoteAddress },
            appConfig.trustProxy,
          ),
          requestId: id,
          calls: info.calls.length,
        });
      } catch (cause) {
        ctxError = getTRPCErrorFromUnknown(cause);
      }
      const calls = info.calls;
      const outcomes = await Promise.all(
        calls.map(async (call): Promise<[TRPCError | undefined, unknown]> => {
          const procedure = call.procedure;
          try {
            if (ctxError) throw ctxError;
            if (!procedure) {
              throw new TRPCError({ code: "NOT_FOUND", message: `No procedure found on path "${call.path}"` });
            }
            const accepted = procedure._def.type === "mutation" ? "POST" : "GET";
            if (method !== accepted) {
              headers["allow"] = accepted;
              throw new TRPCError({
                code: "METHOD_NOT_SUPPORTED",
                message: `Unsupported ${method}-request to ${procedure._def.type} procedure at path "${call.path}"`,
              });
            }
            if (procedure._def.type === "subscription") {
              throw new TRPCError({ code: "METHOD_NOT_SUPPORTED", message: "Subscriptions are not served here." });
            }
            const data = await callProcedure(procedure, {
              path: call.path,
              getRawInput: call.getRawInput,
              ctx,
              type: procedure._def.type,
              signal: undefined,
              batchIndex: call.batchIndex,
            });
            return [undefined, data];
          } catch (cause) {
            const error = getTRPCErrorFromUnknown(cause);
            logProcedureError(deps.logger, { error, path: call.path });
            return [error, undefined];
          }
        }),
      );
      const results: RpcResult[] = outcomes.map(([error, data], index) => {
        if (!error) return { result: { data } };
        const call = calls[index]!;
        const type = call.procedure?._def.type ?? "unknown";
        return { error: getErrorShape({ config, ctx, error, input: call.result(), path: call.path, type }) };
      });
      const json = info.isBatchCall ? results : results[0]!;
      return rpcAnswer(
        json,
        outcomes.map(([error]) => error),
        headers,
        resHeaders,
      );
    } catch (cause) {
      // The request itself could not be read (bad path, bad JSON, a batch that is not an object).
      const error = getTRPCErrorFromUnknown(cause);
      logProcedureError(deps.logger, { error });
      const json = {
        error: getErrorShape({ config, ctx, error, input: undefined, path: undefined, type: info?.type ?? "unknown" }),
      };
      return rpcAnswer(json, [error], headers, resHeaders);
    }
  }

  async function send(req: IncomingMessage, res: ServerResponse, id: string, answer: Answer, compress: boolean) {
    const headers = answer.headers;
    let payload: Buffer | string = answer.body;
    if (compress) {
      const sent = await compressedJson(payload, header(req, "accept-encoding") ?? undefined);
      payload = sent.body;
      headers["vary"] = varyWithEncoding(headers["vary"] as string | undefined);
      if (sent.encoding) headers["content-encoding"] = sent.encoding;
    }
    for (const [name, value] of security) if (!(name in headers)) headers[name] = value;
    headers["cache-control"] = API_CACHE_CONTROL;
    headers["x-request-id"] = id;
    headers["content-length"] = String(Buffer.byteLength(payload));
    if (res.destroyed) return;
    res.writeHead(answer.status, headers);
    res.end(payload);
  }

  return (req, res) => {
    if (!isLeanCall(req)) return fallback(req, res);
    const started = performance.now();
    const id = requestIdFrom(header(req, "x-request-id") ?? undefined);
    // What the request's work logs carries its id (core's requestDeps).
    const scoped = requestDeps(deps, id);
    return (async () => {
      const target = targetOf(req.url!);
      const method = req.method!;
      let answer: Answer;
      let compress = true;
      try {
        const cookies = readCookies(req.headers.cookie);
        const refused = crossSiteRefused(method, {
          hasSessionCookie: cookies[SESSION_COOKIE] !== undefined,
          origin: header(req, "origin") ?? undefined,
          publicOrigin,
        });
        if (refused) {
          answer = {
            status: 403,
            headers: { "content-type": "application/json" },
            body: JSON.stringify(CROSS_SITE_REFUSAL),
          };
          compress = false;
        } else {
          const body = method === "POST" ? await readBody(req) : null;
          if (method === "POST" && body === null) return; // the client went away mid-body
          answer = await answerCalls(req, { target, id, deps: scoped, cookies, body });
        }
      } catch (error) {
        const failure = errorAnswer(error, scoped.logger);
        answer = {
          status: failure.status,
          headers: { "content-type": "application/json", ...failure.headers },
          body: JSON.stringify(failure.body),
        };
        compress = false;
      }
      await send(req, res, id, answer, compress);
      metrics.observe(
        method,
        procedureLabels(target.path.slice(PREFIX.length), target.query.get("batch") === "1"),
        answer.status,
        started,
      );
      logRequest(deps.logger, started, { requestId: id, method, path: target.path, status: answer.status });
    })();
  };
}

/**
 * tRPC's answer to a request's calls (one result, a batch's, or the request's own failure): its
 * status as tRPC derives it, with the headers the procedures set (cookies, Retry-After).
 */
function rpcAnswer(
  json: RpcResult | RpcResult[],
  errors: (TRPCError | undefined)[],
  headers: Answer["headers"],
  resHeaders: Headers,
): Answer {
  const cookies = resHeaders.getSetCookie();
  if (cookies.length) headers["set-cookie"] = cookies;
  for (const [name, value] of resHeaders) if (name !== "set-cookie") headers[name] = value;
  return {
    status: getHTTPStatusCode(json, errors),
    headers,
    // Without a transformer (Notebox's answers are plain JSON), tRPC's would copy the answer as it is.
    body: JSON.stringify(config.transformer === defaultTransformer ? json : transformTRPCResponse(config, json)),
  };
}
