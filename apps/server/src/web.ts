// Serves the built single-page app: hashed assets cached for a year, every other path gets
// index.html (never cached without asking) so client-side routes survive a reload. Files are sent
// in the brotli or gzip copy the build made beside them when the browser accepts it.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Context, Hono } from "hono";
import { brotliCompressSync, gzipSync } from "node:zlib";
import type { Env } from "./app";
import { chosenEncoding } from "./compression";

const defaultWebRoot = fileURLToPath(new URL("../../web/build", import.meta.url));

export interface WebApp {
  /** CSP hashes of index.html's inline bootstrap scripts: allowed by hash, never 'unsafe-inline'. */
  scriptHashes: string[];
  mount(app: Hono<Env>): void;
}

export function loadWebApp(root: string = defaultWebRoot): WebApp | null {
  const indexFile = path.join(root, "index.html");
  if (!existsSync(indexFile)) return null;
  const indexHtml = readFileSync(indexFile, "utf8");
  const scriptHashes = [...indexHtml.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map(
    (m) => `'sha256-${createHash("sha256").update(m[1]!).digest("base64")}'`,
  );

  return {
    scriptHashes,
    mount(app) {
      /** Every answer here may differ by Accept-Encoding, compressed copy or not. */
      const found = (cacheControl: string) => (_path: string, c: Context<Env>) => {
        c.header("Cache-Control", cacheControl);
        if (!c.res.headers.get("Vary")) c.header("Vary", "Accept-Encoding");
      };
      const pages = serveStatic<Env>({ root, precompressed: true, onFound: found("no-cache") });
      app.use(
        "/_app/immutable/*",
        serveStatic<Env>({ root, precompressed: true, onFound: found("public, max-age=31536000, immutable") }),
      );
      // /api/* never gets here: the API's own 404 answers first.
      app.get("*", pages);
      const compressed = { br: brotliCompressSync(indexHtml), gzip: gzipSync(indexHtml, { level: 9 }) };
      app.get("*", (c) => {
        c.header("Cache-Control", "no-cache");
        c.header("Vary", "Accept-Encoding");
        const encoding = chosenEncoding(c.req.header("Accept-Encoding"));
        if (!encoding) return c.html(indexHtml);
        c.header("Content-Encoding", encoding);
        c.header("Content-Type", "text/html; charset=UTF-8");
        return c.body(new Uint8Array(compressed[encoding]));
      });
    },
  };
}
