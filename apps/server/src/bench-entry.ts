// `notebox serve` plus bare routes for the benches, each behind the same session check as the app:
// - /bench/bare-notes-list (bench/list.mjs): the same note list as tRPC's notes.list, with the
//   same query, so the two differ only by the tRPC layer;
// - /bench/search-timed and /bench/like-timed (bench/search.mjs): notes.search's own function, and
//   the `LIKE '%term%'` query that answers the same question, each timed around its database work
//   in this process, so that the engines are compared without the HTTP and session costs around them.
// `--no-cache` turns the read caches off, so the routes run their queries on every request;
// `--no-revisions` makes edits keep no history (bench/revisions compares the two).
import { SESSION_COOKIE } from "@notebox/api";
import { loadConfig } from "@notebox/config";
import { type CoreDeps, listNotes, searchNotes, searchTerms, validateSessionToken } from "@notebox/core";
import { QueryTypes } from "@notebox/db";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { createLogger } from "./runtime";
import { startServer } from "./server";

const config = loadConfig();
const logger = createLogger(config);
const server = await startServer(config, {
  logger,
  cache: { disabled: process.argv.includes("--no-cache") },
  revisions: !process.argv.includes("--no-revisions"),
  extendApp(app, deps) {
    const signedIn = async (c: Context) => {
      const token = getCookie(c, SESSION_COOKIE);
      return token ? ((await validateSessionToken({ deps, token }))?.user.id ?? null) : null;
    };
    const unauthorized = (c: Context) =>
      c.json({ error: { code: "UNAUTHORIZED", message: "Sign in to continue." } }, 401);

    app.get("/bench/bare-notes-list", async (c) => {
      const ownerId = await signedIn(c);
      if (!ownerId) return unauthorized(c);
      const input = { limit: 20 };
      return c.json(await listNotes({ deps, ownerId, ...input }));
    });

    app.get("/bench/search-timed", async (c) => {
      const ownerId = await signedIn(c);
      if (!ownerId) return unauthorized(c);
      const started = performance.now();
      const page = await searchNotes({ deps, ownerId, q: c.req.query("q") ?? "" });
      return c.json({ ms: performance.now() - started, hits: page.items.length });
    });

    app.get("/bench/like-timed", async (c) => {
      const ownerId = await signedIn(c);
      if (!ownerId) return unauthorized(c);
      const started = performance.now();
      const rows = await likeSearch(deps, ownerId, c.req.query("q") ?? "", { ranked: c.req.query("ranked") !== "0" });
      return c.json({ ms: performance.now() - started, hits: rows.length });
    });
  },
});
logger.info({ port: server.port }, "Notebox (bench build) is listening");
const stop = () => void server.close().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);

/**
 * notes.search's first page as `LIKE '%term%'` would find it: the owner's notes outside the trash
 * holding every term in the title or the text, those with more of the terms in the title first,
 * then newest edit first. The ranking needs every match, so the query cannot stop early; the
 * owner's index limits the scan to the owner's notes. `ranked: false` is the cheaper query that
 * drops the ranking: the newest matches, which stops at the 21st. (The terms are letters and
 * digits only, so none is a LIKE wildcard. LIKE finds a term anywhere in a word, and folds neither
 * accents on SQLite nor case outside ASCII: it is the query search replaces, not its equal.)
 */
async function likeSearch(deps: CoreDeps, ownerId: string, q: string, { ranked }: { ranked: boolean }) {
  const terms = searchTerms(q);
  if (terms.length === 0) return [];
  const replacements: Record<string, unknown> = { ownerId };
  terms.forEach((t, i) => (replacements[`t${i}`] = `%${t}%`));
  const anywhere = terms.map((_, i) => `(title LIKE :t${i} OR description LIKE :t${i})`).join(" AND ");
  const inTitle = terms.map((_, i) => `(CASE WHEN title LIKE :t${i} THEN 1 ELSE 0 END)`).join(" + ");
  return deps.db.sequelize.query(
    `SELECT id, title, description, version, created_at, updated_at FROM notes
      WHERE owner_id = :ownerId AND deleted_at IS NULL AND ${anywhere}
      ORDER BY ${ranked ? `${inTitle} DESC,` : ""} updated_at DESC, id DESC LIMIT 21`,
    { replacements, type: QueryTypes.SELECT },
  );
}
