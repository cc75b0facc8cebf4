// `notebox serve` plus one bare Hono route for bench/list.mjs: the same note list as tRPC's
// notes.list, with the same session check and query, so the two differ only by the tRPC layer.
// `--no-cache` turns the read caches off, so both run the query on every request.
import { SESSION_COOKIE } from "@notebox/api";
import { loadConfig } from "@notebox/config";
import { listNotes, validateSessionToken } from "@notebox/core";
import { getCookie } from "hono/cookie";
import { createLogger } from "./runtime";
import { startServer } from "./server";

const config = loadConfig();
const logger = createLogger(config);
const server = await startServer(config, {
  logger,
  cache: { disabled: process.argv.includes("--no-cache") },
  extendApp(app, deps) {
    app.get("/bench/bare-notes-list", async (c) => {
      const token = getCookie(c, SESSION_COOKIE);
      const valid = token ? await validateSessionToken({ deps, token }) : null;
      if (!valid) return c.json({ error: { code: "UNAUTHORIZED", message: "Sign in to continue." } }, 401);
      const ownerId = valid.user.id;
      const input = { limit: 20 };
      return c.json(await deps.cache.remember("notes", ownerId, ["list", input], () => listNotes({ deps, ownerId, ...input })));
    });
  },
});
logger.info({ port: server.port }, "Notebox (bench build) is listening");
const stop = () => void server.close().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
