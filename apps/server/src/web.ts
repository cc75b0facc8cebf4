// Serves the built single-page app: hashed assets cached for a year, every other path gets
// index.html so client-side routes survive a reload.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Hono } from "hono";
import type { Env } from "./app";

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
      const pages = serveStatic<Env>({ root, onFound: (_p, c) => c.header("Cache-Control", "no-cache") });
      app.use(
        "/_app/immutable/*",
        serveStatic<Env>({
          root,
          onFound: (_path, c) => c.header("Cache-Control", "public, max-age=31536000, immutable"),
        }),
      );
      // /api/* never gets here: the API's own 404 answers first.
      app.get("*", pages);
      app.get("*", (c) => {
        c.header("Cache-Control", "no-cache");
        return c.html(indexHtml);
      });
    },
  };
}
