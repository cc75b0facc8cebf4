// `notebox serve` plus one bare Hono route for bench/list.mjs: the same note list as tRPC's
// notes.list, with the same session check and query, so the two differ only by the tRPC layer.
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
  extendApp(app, deps) {
    app.get("/bench/bare-notes-list", async (c) => {
      const token = getCookie(c, SESSION_COOKIE);
      const valid = token ? await validateSessionToken({ deps, token }) : null;
      if (!valid) return c.json({ error: { code: "UNAUTHORIZED", message: "Sign in to continue." } }, 401);
      return c.json(await listNotes({ deps, ownerId: valid.user.id, limit: 20 }));
    });
  },
});
logger.info({ port: server.port }, "Notebox (bench build) is listening");
const stop = () => void server.close().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
