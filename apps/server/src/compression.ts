// Compression of the API's answers and the web app's files. Built assets are compressed once at
// build time (apps/web/scripts/precompress.mjs: brotli and gzip beside each file); API answers
// over 1 KB are compressed per request when the client accepts it. File downloads never pass
// through here: they are sent as stored, with ranges.
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";
import type { MiddlewareHandler } from "hono";
import type { Env } from "./app";

/** Answers smaller than this are sent as they are: compressing them saves less than it costs. */
export const COMPRESS_MIN_BYTES = 1024;

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** The encoding to answer with: brotli, else gzip, when the request accepts it (q > 0). */
export function chosenEncoding(acceptEncoding: string | undefined): "br" | "gzip" | null {
  const accepted = new Map<string, number>();
  for (const part of (acceptEncoding ?? "").split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
    if (name) accepted.set(name, q === undefined ? 1 : Number(q));
  }
  const allowed = (name: string) => (accepted.get(name) ?? accepted.get("*") ?? 0) > 0;
  return allowed("br") ? "br" : allowed("gzip") ? "gzip" : null;
}

/**
 * A JSON answer as sent: compressed (brotli at a fast level, else gzip) when it is at least
 * COMPRESS_MIN_BYTES and the request accepts it, else as it is.
 */
export async function compressedJson<Body extends Buffer | string>(
  body: Body,
  acceptEncoding: string | undefined,
): Promise<{ body: Body | Buffer; encoding: "br" | "gzip" | null }> {
  const size = Buffer.byteLength(body);
  const encoding = size >= COMPRESS_MIN_BYTES ? chosenEncoding(acceptEncoding) : null;
  if (encoding === "br") {
    const params = { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: size };
    return { body: await brotli(body, { params }), encoding };
  }
  if (encoding === "gzip") return { body: await gzipAsync(body, { level: 6 }), encoding };
  return { body, encoding: null };
}

/** The Vary header of an answer that may be compressed. */
export const varyWithEncoding = (current: string | null | undefined) =>
  current ? `${current}, Accept-Encoding` : "Accept-Encoding";

/**
 * Compresses the JSON answers of the Hono app (compressedJson). tRPC answers are whole JSON
 * documents bounded by the API's limits, so they are read, then compressed; streamed ones are not.
 */
export function compressAnswers(): MiddlewareHandler<Env> {
  return async (c, next) => {
    await next();
    const res = c.res;
    // A streamed answer (tRPC's JSON Lines, chunked) is left to stream: reading it whole would hold it.
    if (!res.body || res.headers.has("Content-Encoding") || res.headers.has("Transfer-Encoding")) return;
    if (!/json/.test(res.headers.get("Content-Type") ?? "")) return;
    const vary = varyWithEncoding(res.headers.get("Vary"));
    const sent = await compressedJson(Buffer.from(await res.arrayBuffer()), c.req.header("Accept-Encoding"));
    // Copied into a buffer of its own: the fetch types take no view of a shared one.
    c.res = new Response(new Uint8Array(sent.body), res);
    c.res.headers.set("Vary", vary);
    c.res.headers.set("Content-Length", String(sent.body.length));
    if (sent.encoding) c.res.headers.set("Content-Encoding", sent.encoding);
  };
}
