// Serves the built single-page app: hashed assets cached for a year, every other path gets
// index.html (never cached without asking) so client-side routes survive a reload. Files are sent
// in the brotli or gzip copy the build made beside them when the browser accepts it.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Context, Hono } from "hono";
import { promisify } from "node:util";
import { brotliCompress, brotliCompressSync, constants, gzip, gzipSync } from "node:zlib";
import type { Env } from "./app";
import { chosenEncoding } from "./compression";

const defaultWebRoot = fileURLToPath(new URL("../../web/build", import.meta.url));

export interface WebApp {
  /** CSP hashes of index.html's inline bootstrap scripts: allowed by hash, never 'unsafe-inline'. */
  scriptHashes: string[];
  /**
   * `boot` gives what the signed-in caller's first paint needs (null for a visitor): it goes into
   * the page as JSON, so the app shows it without asking the server first.
   */
  mount(app: Hono<Env>, boot?: (c: Context<Env>) => Promise<object | null>): void;
}

/** JSON that can sit inside a <script> element: nothing in it can close the element or start markup. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

const BROTLI_FAST = { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } };

const BRAND_ICON =
  '<svg aria-hidden="true" viewBox="0 0 32 32" width="26" height="26"><rect width="32" height="32" rx="7" fill="currentColor"/>' +
  '<path d="M10 8h9l5 5v11a2 2 0 0 1-2 2H10a2 2 0 0 1-2-2V10a2 2 0 0 1 2-2z" fill="var(--surface)"/></svg>';
const SKELETON_ROWS =
  '<li><span class="bar title"></span><span class="bar"></span><span class="bar short"></span></li>'.repeat(5);

/**
 * What a signed-in person sees the moment the page arrives, before the app has started: the
 * header and, on the home page, skeleton rows (styled by the app's own stylesheet, which the page
 * links). The app removes it as it shows itself (routes/+layout.svelte).
 */
function shell(list: boolean): string {
  return (
    `<div id="notebox-shell" aria-hidden="true"><header class="boot-shell-header"><div class="container">` +
    `<span class="boot-shell-brand">${BRAND_ICON}Notebox</span></div></header>` +
    `<div class="container boot-shell-main">${list ? `<ul class="card-list skeleton">${SKELETON_ROWS}</ul>` : ""}</div></div>`
  );
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
    mount(app, boot) {
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
      // Files by name (favicon.svg…); every page, "/" included, is the app's HTML below.
      app.get("*", (c, next) => (/\.[^/]+$/.test(c.req.path) ? pages(c, next) : next()));
      const compressed = { br: brotliCompressSync(indexHtml), gzip: gzipSync(indexHtml, { level: 9 }) };
      const compress = { br: promisify(brotliCompress), gzip: promisify(gzip) };
      app.get("*", async (c) => {
        c.header("Vary", "Accept-Encoding, Cookie");
        c.header("Content-Type", "text/html; charset=UTF-8");
        const encoding = chosenEncoding(c.req.header("Accept-Encoding"));
        const data = boot ? await boot(c) : null;
        if (!data) {
          c.header("Cache-Control", "no-cache");
          if (!encoding) return c.body(indexHtml);
          c.header("Content-Encoding", encoding);
          return c.body(new Uint8Array(compressed[encoding]));
        }
        // The caller's own data: never kept by a shared cache.
        c.header("Cache-Control", "private, no-cache");
        const html = indexHtml
          .replace("</head>", `<script id="notebox-boot" type="application/json">${scriptJson(data)}</script></head>`)
          .replace(/<body([^>]*)>/, `<body$1>${shell("notes" in data)}`);
        if (!encoding) return c.body(html);
        c.header("Content-Encoding", encoding);
        const body = encoding === "br" ? await compress.br(html, BROTLI_FAST) : await compress.gzip(html);
        return c.body(new Uint8Array(body));
      });
    },
  };
}
