// File bytes over plain HTTP: streamed multipart upload and ranged, streamed download. Failures
// are answered by the app's error handler (http-errors.ts).
import { AppError, contentDisposition, isInlineSafe, openFile, receiveUploads } from "@notebox/core";
import { Hono } from "hono";
import type { Env } from "../app";
import type { Metrics } from "../metrics";
import { requestUser } from "./session";
import { pullStream } from "./streams";

export function fileRoutes(metrics?: Pick<Metrics, "bytesUploaded" | "bytesDownloaded">) {
  const app = new Hono<Env>();

  app.post("/", async (c) => {
    const deps = c.var.deps;
    const user = await requestUser(c, deps, "upload files");
    const incoming = c.env.incoming;
    const noteId = c.req.query("noteId");
    if (noteId !== undefined && (noteId.length === 0 || noteId.length > 64))
      throw new AppError("NOT_FOUND", "No such note.");
    const items = await receiveUploads({ deps, ownerId: user.id, headers: incoming.headers, body: incoming, noteId });
    metrics?.bytesUploaded.inc(items.reduce((sum, item) => sum + item.size, 0));
    return c.json({ items }, 201);
  });

  app.on(["GET", "HEAD"], "/:id/content", async (c) => {
    const deps = c.var.deps;
    const user = await requestUser(c, deps, "download files");
    const head = c.req.method === "HEAD";
    const etagOnly = c.req.header("if-none-match");
    const { file, range, body } = await openFile({
      deps,
      ownerId: user.id,
      id: c.req.param("id"),
      rangeHeader: c.req.header("range"),
      withBody: !head,
    });
    const size = Number(file.size);
    const etag = `"${file.sha256}"`;
    const wantsInline = c.req.query("disposition") === "inline";
    const inline = wantsInline && isInlineSafe(file.contentType);

    c.header("ETag", etag);
    c.header("Accept-Ranges", "bytes");
    c.header("Last-Modified", file.createdAt.toUTCString());
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Content-Disposition", contentDisposition(inline ? "inline" : "attachment", file.name));
    // Whatever the file holds runs in an opaque origin with no scripts, even when shown inline.
    // The app's own pages may frame it (the PDF preview); no other site may.
    c.header(
      "Content-Security-Policy",
      "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'",
    );
    c.header("X-Frame-Options", "SAMEORIGIN");
    c.header("Content-Type", inline ? file.contentType : file.contentType || "application/octet-stream");

    if (etagOnly && etagOnly.split(",").some((t) => t.trim() === etag || t.trim() === `W/${etag}`)) {
      body?.destroy();
      return c.body(null, 304);
    }
    if (range.kind === "unsatisfiable") {
      c.header("Content-Range", `bytes */${size}`);
      return c.body(null, 416);
    }
    if (range.kind === "partial") {
      c.header("Content-Range", `bytes ${range.range.start}-${range.range.end}/${size}`);
      c.header("Content-Length", String(range.range.end - range.range.start + 1));
      if (body) metrics?.bytesDownloaded.inc(range.range.end - range.range.start + 1);
      return body ? c.body(pullStream(body), 206) : c.body(null, 206);
    }
    c.header("Content-Length", String(size));
    if (body) metrics?.bytesDownloaded.inc(size);
    return body ? c.body(pullStream(body), 200) : c.body(null, 200);
  });

  return app;
}
