// bench/web: how much JavaScript the notes page (/notes/[id]) makes a browser download, gzipped,
// against its budget. Builds nothing: run it after `npx turbo run build` (or `npm run build`), on
// the web app as adapter-static wrote it to apps/web/build (the files apps/server serves).
//
// The page loads index.html's two entry modules (entry/start, entry/app), the root layout's node
// (0), the route's own node and the layouts it sits in (from the router's dictionary in
// entry/app), and every module these import statically, transitively. Modules reached only by a
// dynamic import() (other routes, and the editor, loaded when editing starts) are not part of it;
// the editor's share is printed on its own line, for information.
// Options: WEB_BUILD=dir (another build directory), WEB_ROUTE=/notes/[id], WEB_BUDGET_KB=120.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = path.resolve(fileURLToPath(new URL("..", import.meta.url)));
const build = path.resolve(process.env.WEB_BUILD ?? path.join(root, "apps/web/build"));
const route = process.env.WEB_ROUTE ?? "/notes/[id]";
const budgetKb = Number(process.env.WEB_BUDGET_KB ?? 120);
const immutable = path.join(build, "_app/immutable");

if (!existsSync(path.join(build, "index.html")) || !existsSync(immutable)) {
  console.error(`No built web app in ${build}: run \`npx turbo run build\` first.`);
  process.exit(1);
}

const indexHtml = readFileSync(path.join(build, "index.html"), "utf8");
const entries = [...indexHtml.matchAll(/import\(\s*["']([^"']+\.js)["']\s*\)/g)].map((m) =>
  path.join(build, m[1].replace(/^\//, "")),
);
const appEntry = entries.find((file) => /\/entry\/app\.[^/]+\.js$/.test(file));
if (!appEntry) throw new Error("index.html does not import entry/app.*.js: is this a SvelteKit build?");

// The router's dictionary: "/notes/[id]":[14] or "/admin/(console)":[6,[2]] (page node, layouts).
const appSource = readFileSync(appEntry, "utf8");
const routeKey = JSON.stringify(route);
const at = appSource.indexOf(`${routeKey}:[`);
if (at < 0) throw new Error(`Route ${route} not found in ${path.relative(root, appEntry)}.`);
const tuple = /^\[(~?\d+)(?:,\[([\d,]*)\])?/.exec(appSource.slice(at + routeKey.length + 1));
if (!tuple) throw new Error(`Cannot read the route ${route} in the router's dictionary.`);
const nodeIds = [
  0,
  Number(tuple[1].replace("~", "")),
  ...(tuple[2] ? tuple[2].split(",").filter(Boolean).map(Number) : []),
];
const nodeFiles = readdirSync(path.join(immutable, "nodes"));
const nodes = [...new Set(nodeIds)].map((id) => {
  const file = nodeFiles.find((name) => name.startsWith(`${id}.`) && name.endsWith(".js"));
  if (!file) throw new Error(`Node ${id} of ${route} is missing from ${path.relative(root, immutable)}/nodes.`);
  return path.join(immutable, "nodes", file);
});

/** Static `import … from "x"`, `import "x"` and `export … from "x"` of a built module. */
function staticImports(file) {
  const source = readFileSync(file, "utf8");
  const found = [];
  for (const m of source.matchAll(/(?:^|[;}\s])(?:import|export)\s*(?:[\w$*{}\s,]*?\bfrom\s*)?["']([^"']+\.js)["']/g)) {
    found.push(path.resolve(path.dirname(file), m[1]));
  }
  return found;
}

/** `import("x")` of a built module: code loaded on demand. */
function dynamicImports(file) {
  const source = readFileSync(file, "utf8");
  return [...source.matchAll(/\bimport\(\s*["']([^"']+\.js)["']\s*\)/g)].map((m) =>
    path.resolve(path.dirname(file), m[1]),
  );
}

function closure(starts, exclude = new Set()) {
  const seen = new Set();
  const queue = [...starts];
  while (queue.length) {
    const file = queue.pop();
    if (seen.has(file) || exclude.has(file)) continue;
    seen.add(file);
    queue.push(...staticImports(file));
  }
  return seen;
}

const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
const kb = (bytes) => (bytes / 1024).toFixed(1);
const total = (files) => [...files].reduce((sum, file) => sum + gz(file), 0);

const page = closure([...entries, ...nodes]);
const pageBytes = total(page);

// What the route's own node loads on demand (the editor), beyond what the page already has.
const lazy = closure(
  nodes.flatMap((node) => [...closure([node])].flatMap(dynamicImports)),
  page,
);
const lazyBytes = total(lazy);

const verbose = process.argv.includes("--verbose");
if (verbose) {
  for (const file of [...page].sort()) console.log(`  ${kb(gz(file)).padStart(6)} KB  ${path.relative(build, file)}`);
  for (const file of [...lazy].sort())
    console.log(`  ${kb(gz(file)).padStart(6)} KB  (on demand) ${path.relative(build, file)}`);
}
const pass = pageBytes <= budgetKb * 1024;
console.log(`notes page JS: ${kb(pageBytes)} KB gzip (budget ${budgetKb} KB): ${pass ? "PASS" : "MISS"}`);
console.log(
  `  ${page.size} modules; loaded on demand from the page (the editor): ${kb(lazyBytes)} KB gzip in ${lazy.size} modules`,
);
process.exitCode = pass ? 0 : 1;
