// GET /api/v1/notes/export?format=xlsx|csv|json: the signed-in user's notes as a download,
// streamed at the pace the client reads; POST with a form (format, and ids: the selected notes,
// one field each) exports a selection. Failures are answered by the app's error handler.
import { AppError, contentDisposition, EXPORT_FORMATS, exportNotes, isExportFormat } from "@notebox/core";
import { Hono, type Context } from "hono";
import type { Env } from "../app";
import { requestUser } from "./session";

export function noteExportRoutes() {
  const app = new Hono<Env>();

  async function download(c: Context<Env>, requested: string, ids?: string[]) {
    const deps = c.var.deps;
    const user = await requestUser(c, deps, "export your notes");
    const format = requested.toLowerCase();
    if (!isExportFormat(format))
      throw new AppError("BAD_REQUEST", `Choose an export format: ${EXPORT_FORMATS.join(", ")}.`);
    const { stream, contentType, fileName } = await exportNotes({
      // A failure part-way through is logged by core after this handler has returned, through
      // the request's deps, so the line carries the request id.
      deps,
      ownerId: user.id,
      format,
      ids,
    });
    c.header("Content-Type", contentType);
    c.header("Content-Disposition", contentDisposition("attachment", fileName));
    c.header("X-Content-Type-Options", "nosniff");
    // Without it, @hono/node-server reads the first chunks before sending the headers and, if one
    // of those reads fails, answers 200 with a Content-Length covering only what it got: a cut
    // file that looks whole. Chunked, a failure aborts the response and the client sees it.
    // (HTTP/1.0 clients, such as nginx's proxy by default, cannot read chunked bodies.)
    if (c.env.incoming.httpVersion !== "1.0") c.header("Transfer-Encoding", "chunked");
    return c.body(stream, 200);
  }

  app.get("/export", (c) => download(c, c.req.query("format") ?? "xlsx"));

  app.post("/export", async (c) => {
    const form = await c.req.parseBody({ all: true }).catch(() => {
      throw new AppError("BAD_REQUEST", "Send the selection as a form: format, and one ids field per note.");
    });
    const ids = [form.ids ?? []].flat().filter((id): id is string => typeof id === "string" && id.length <= 64);
    const format = typeof form.format === "string" ? form.format : "xlsx";
    return download(c, format, ids);
  });

  return app;
}
