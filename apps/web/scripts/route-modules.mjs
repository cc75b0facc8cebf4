// The JavaScript a route of the built app loads before it can render: index.html's entry modules,
// the root layout's node, the route's node and its layouts (from the router's dictionary in
// entry/app), and every module these import statically. Used by the build (preload.mjs: the home
// route's modules are preloaded by index.html) and by bench/web (their size).
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";

/** Static `import … from "x"`, `import "x"` and `export … from "x"` of a built module. */
export function staticImports(file) {
  const source = readFileSync(file, "utf8");
  const found = [];
  for (const m of source.matchAll(/(?:^|[;}\s])(?:import|export)\s*(?:[\w$*{}\s,]*?\bfrom\s*)?["']([^"']+\.js)["']/g)) {
    found.push(path.resolve(path.dirname(file), m[1]));
  }
  return found;
}

/** `import("x")` of a built module: code loaded on demand. */
export function dynamicImports(file) {
  const source = readFileSync(file, "utf8");
  return [...source.matchAll(/\bimport\(\s*["']([^"']+\.js)["']\s*\)/g)].map((m) =>
    path.resolve(path.dirname(file), m[1]),
  );
}

/** Every module `starts` import statically, transitively (`exclude` and what they import left out). */
export function closure(starts, exclude = new Set()) {
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

/**
 * The modules of `route` ("/", "/notes/[id]"…) in the build at `build`: `entries` (index.html's),
 * `nodes` (root layout, the route's node and its layouts) and `page` (all they load statically).
 */
export function routeModules(build, route) {
  const immutable = path.join(build, "_app/immutable");
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
  if (at < 0) throw new Error(`Route ${route} not found in ${path.relative(build, appEntry)}.`);
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
    if (!file) throw new Error(`Node ${id} of ${route} is missing from the build's nodes.`);
    return path.join(immutable, "nodes", file);
  });
  return { entries, nodes, page: closure([...entries, ...nodes]) };
}

/**
 * The stylesheets Vite loads with the route's nodes, as the router's `__vite__mapDeps` lists them
 * beside each node's import (the page waits for them before it shows the route).
 */
export function routeStyles(build, route) {
  const { entries, nodes } = routeModules(build, route);
  const appEntry = entries.find((file) => /\/entry\/app\.[^/]+\.js$/.test(file));
  const source = readFileSync(appEntry, "utf8");
  const list = /m\.f=\[([^\]]*)\]/.exec(source);
  if (!list) return [];
  const files = JSON.parse(`[${list[1]}]`);
  const styles = new Set();
  for (const node of nodes) {
    const name = path.basename(node).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const deps = new RegExp(`import\\("\\.\\./nodes/${name}"\\),__vite__mapDeps\\(\\[([\\d,]*)\\]\\)`).exec(source);
    for (const index of deps?.[1].split(",").filter(Boolean).map(Number) ?? []) {
      const file = files[index];
      if (typeof file === "string" && file.endsWith(".css")) styles.add(path.resolve(path.dirname(appEntry), file));
    }
  }
  return [...styles];
}
