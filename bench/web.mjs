// bench/web: what the web app costs a browser. Two parts; run it after `npx turbo run build` (or
// `npm run build`): it builds nothing.
//
// 1. How much JavaScript the notes page (/notes/[id]) makes a browser download, gzipped, against
// its budget, from the web app as adapter-static wrote it to apps/web/build (the files apps/server
// serves). The page loads index.html's two entry modules (entry/start, entry/app), the root
// layout's node (0), the route's own node and the layouts it sits in (from the router's dictionary
// in entry/app), and every module these import statically, transitively. Modules reached only by
// a dynamic import() (other routes, and the editor, loaded when editing starts) are not part of
// it; the editor's share is printed on its own line, for information.
//
// 2. The signed-in home page in Chromium (Debian's, driven by playwright-core; skipped with a
// message when there is none). The built server (apps/server/dist/cli.js serve, which serves
// apps/web/build) runs on the embedded SQLite default in a temporary DATA_DIR, with one account
// (create-admin) holding 1,000 notes made over tRPC (notes.create). After one warm-up load per
// build (not counted: it warms the server, not the browser), each cold load is a fresh browser
// context (empty cache) with the session cookie set and the CPU slowed 4x
// (Emulation.setCPUThrottlingRate), navigating to / and waiting until the first note of the list
// (ul.notes li, not the skeleton rows) is in the page and a frame has been rendered with it. Per
// load: first contentful paint (the paint timing entry), when the list was painted (the first
// task after that frame), and the sequential request depth before it: from the CDP Network events
// (requestWillBeSent, loadingFinished), the longest chain of requests finished before the list
// was painted in which each started after the previous one had finished (the HTML alone is 1),
// among the requests the list waits for (the HTML, the home route's modules as part 1 finds them,
// stylesheets, fonts, tRPC auth.me and notes.list; not the favicon, the error page's node or the
// tags), and leaving out links that are only timing on loopback (see longestChain). Target: depth
// <= 2 (the HTML and one). The chain of a median load is printed, and what else had finished.
// Also the HTML and the JavaScript on the wire for the load (encodedDataLength, headers included,
// of every document and script it fetched). Figures are p50s over the loads.
//
// WEB_BASELINE=<a checkout of an earlier commit, built (npm ci; npx turbo run build)> runs that
// build's server and web app the same way, loads alternated with this build's (this, baseline,
// this, ...), and prints first contentful paint this build / baseline as the median of the
// per-pair ratios with their range (target <= 0.6), the same for the list painted, and the
// baseline's depth and transfer beside this build's. Without it the ratio is not measured.
//
// Options: WEB_BUILD=dir (another build directory, part 1 only), WEB_ROUTE=/notes/[id],
// WEB_BUDGET_KB=120, --verbose (part 1's modules; part 2's per-load figures and chains);
// WEB_SIZE_ONLY=1 (part 1 only); BENCH_WEB_LOADS=5 (cold loads per build, at least 5 for the
// targets); BENCH_WEB_NOTES=1000; WEB_RTT_MS=0 (added to every request's round trip: on loopback
// one costs next to nothing); CHROMIUM_PATH=/usr/bin/chromium; WEB_BASELINE as above.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { closure, dynamicImports, routeModules } from "../apps/web/scripts/route-modules.mjs";
import { fmt, median, seedNotes, startNotebox } from "./lib/notebox.mjs";

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const root = path.resolve(fileURLToPath(new URL("..", import.meta.url)));
const build = path.resolve(process.env.WEB_BUILD ?? path.join(root, "apps/web/build"));
const route = process.env.WEB_ROUTE ?? "/notes/[id]";
const budgetKb = Number(process.env.WEB_BUDGET_KB ?? 120);
const immutable = path.join(build, "_app/immutable");

if (!existsSync(path.join(build, "index.html")) || !existsSync(immutable)) {
  console.error(`No built web app in ${build}: run \`npx turbo run build\` first.`);
  process.exit(1);
}

const { nodes, page } = routeModules(build, route);

const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
const kb = (bytes) => (bytes / 1024).toFixed(1);
const total = (files) => [...files].reduce((sum, file) => sum + gz(file), 0);

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

if (process.env.WEB_SIZE_ONLY === "1") {
  console.log("home page in Chromium: not measured (WEB_SIZE_ONLY=1)");
} else if (!existsSync(chromiumPath)) {
  console.log(
    `home page in Chromium: skipped, no Chromium at ${chromiumPath} (set CHROMIUM_PATH, or apt-get install chromium)`,
  );
} else {
  if (!(await homeInBrowser())) process.exitCode = 1;
}

// ---- Part 2: the signed-in home page in Chromium ----

async function homeInBrowser() {
  const loads = Number(process.env.BENCH_WEB_LOADS ?? 5);
  const noteCount = Number(process.env.BENCH_WEB_NOTES ?? 1000);
  const rtt = Number(process.env.WEB_RTT_MS ?? 0);
  const baselineDir = process.env.WEB_BASELINE ? path.resolve(process.env.WEB_BASELINE) : undefined;
  const builds = [{ label: "this build", dir: root }];
  if (baselineDir) builds.push({ label: "baseline", dir: baselineDir });
  for (const build of builds) {
    build.entry = path.join(build.dir, "apps/server/dist/cli.js");
    if (!existsSync(build.entry) || !existsSync(path.join(build.dir, "apps/web/build/index.html"))) {
      console.error(`No built server and web app in ${build.dir}: run \`npx turbo run build\` there first.`);
      return false;
    }
  }

  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // As apps/server/test/e2e/browser.ts launches it.
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
    ],
  });
  try {
    for (const build of builds) {
      build.server = await startNotebox({}, { entry: build.entry, args: ["serve"] });
      build.cookie = await seedAccount(build, noteCount);
      build.loads = [];
      await coldLoad(browser, build, rtt); // warm-up, not counted
    }
    console.log(
      `home page, signed in with ${noteCount} notes (SQLite), Chromium at 4x CPU slowdown${rtt ? `, ${rtt} ms round trips` : ", loopback"}: p50 of ${loads} cold loads per build${baselineDir ? ", alternated with the baseline" : ""} (load average ${fmt(os.loadavg()[0], 1)} on ${os.availableParallelism()} CPUs)`,
    );
    for (let i = 0; i < loads; i++) for (const build of builds) build.loads.push(await coldLoad(browser, build, rtt));
  } finally {
    await browser.close();
    for (const build of builds) await build.server?.stop();
  }

  const p50 = (build, key) => median(build.loads.map((load) => load[key]));
  const ms = (value) => `${fmt(value, 0)} ms`;
  for (const build of builds) {
    const depths = build.loads.map((load) => load.depth);
    console.log(
      `  ${build.label.padEnd(10)}: first contentful paint ${ms(p50(build, "fcp"))}, list painted ${ms(p50(build, "list"))}, sequential requests before it ${median(depths)} (per load ${depths.join(" ")}) of ${median(build.loads.map((load) => load.requests))}`,
    );
    // The chain of the load with the median depth: what the list waited for, in order.
    const shown = build.loads.find((load) => load.depth === median(depths));
    console.log(
      `    chain: ${shown.chain.join(" -> ")}; not waited for: ${[...new Set(shown.others)].join(", ") || "none"}`,
    );
    if (verbose)
      for (const load of build.loads)
        console.log(
          `    load: fcp ${ms(load.fcp)}, list ${ms(load.list)}, depth ${load.depth}, html ${load.html} B, js ${load.js} B, chain ${load.chain.join(" -> ")}`,
        );
  }
  const [current, baseline] = builds;
  const depth = median(current.loads.map((load) => load.depth));
  const depthPass = depth <= 2;
  console.log(
    `  sequential requests before the list is painted: ${depth} (target <= 2): ${depthPass ? "PASS" : "MISS"}`,
  );
  const kib = (bytes) => `${fmt(bytes / 1024, 1)} KB`;
  const transfer = (build) => `HTML ${kib(p50(build, "html"))}, JS ${kib(p50(build, "js"))}`;
  if (!baseline) {
    console.log(
      "  first contentful paint / baseline: not measured (set WEB_BASELINE=<a built checkout of the previous release>)",
    );
    console.log(`  on the wire for the load (with headers): ${transfer(current)}`);
    return depthPass;
  }
  const ratios = (key) => current.loads.map((load, i) => load[key] / baseline.loads[i][key]);
  const describe = (values) =>
    `${fmt(median(values), 2)} (pairs ${fmt(Math.min(...values), 2)}-${fmt(Math.max(...values), 2)})`;
  const fcpRatio = median(ratios("fcp"));
  const ratioPass = fcpRatio <= 0.6;
  console.log(
    `  first contentful paint this build / baseline = ${describe(ratios("fcp"))} (target <= 0.6): ${ratioPass ? "PASS" : "MISS"}`,
  );
  console.log(`  list painted this build / baseline = ${describe(ratios("list"))}`);
  console.log(`  on the wire for the load (with headers): ${transfer(current)}; baseline ${transfer(baseline)}`);
  console.log(`  baseline: ${baselineDir}`);
  return depthPass && ratioPass;
}

/** One account with `count` notes on the build's server; returns its session cookie ("name=value"). */
async function seedAccount(build, count) {
  const email = "home@example.test";
  const password = "bench passphrase for the home page";
  await new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [build.entry, "create-admin", "--email", email, "--username", "home", "--password-stdin"],
      { env: { ...process.env, ...build.server.env }, stdio: ["pipe", "ignore", "inherit"] },
    );
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`create-admin exited ${code}`))));
    child.stdin.end(password);
  });
  const res = await fetch(`${build.server.url}/api/v1/trpc/auth.login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: `http://localhost:${new URL(build.server.url).port}` },
    body: JSON.stringify({ email, password }),
  });
  if (!res.ok) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  const session = res.headers.getSetCookie().find((cookie) => cookie.startsWith("notebox_session="));
  if (!session) throw new Error("sign-in set no session cookie");
  const cookie = session.split(";")[0];
  await seedNotes(build.server, cookie, count);
  return cookie;
}

/**
 * In the page, from its first script on: the time the first note of the list is in the document,
 * and the first task after the frame that rendered it (when it has been painted).
 */
function watchList() {
  const observer = new MutationObserver(() => {
    if (!document.querySelector("ul.notes:not(.skeleton) li")) return;
    observer.disconnect();
    window.__benchList = { inserted: performance.now() };
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => (window.__benchList.painted = performance.now());
      channel.port2.postMessage(null);
    });
  });
  observer.observe(document, { childList: true, subtree: true });
}

/** One cold load of / on `build`'s server in a fresh context; its figures. */
async function coldLoad(browser, build, rtt) {
  const { url } = build.server;
  const context = await browser.newContext();
  try {
    const [name, ...value] = build.cookie.split("=");
    await context.addCookies([{ name, value: value.join("="), url }]);
    await context.addInitScript(watchList);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const requests = new Map();
    cdp.on("Network.requestWillBeSent", (e) => {
      requests.set(e.requestId, {
        url: e.request.url,
        type: e.type,
        named: (e.initiator.type === "parser" || e.initiator.type === "preload") && e.initiator.url === `${url}/`,
        initiator: JSON.stringify([
          e.initiator.type,
          e.initiator.url,
          e.initiator.lineNumber,
          e.initiator.columnNumber,
          e.initiator.stack?.callFrames.map((f) => [f.url, f.lineNumber, f.columnNumber]),
        ]),
        callers: callers(e.initiator),
        start: e.timestamp * 1000,
        wall: e.wallTime * 1000,
      });
    });
    cdp.on("Network.responseReceived", (e) => {
      const request = requests.get(e.requestId);
      if (request) request.type = e.type;
    });
    cdp.on("Network.loadingFinished", (e) => {
      const request = requests.get(e.requestId);
      if (request) Object.assign(request, { end: e.timestamp * 1000, bytes: e.encodedDataLength });
    });
    await cdp.send("Network.enable");
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    if (rtt)
      await cdp.send("Network.emulateNetworkConditions", {
        offline: false,
        latency: rtt,
        downloadThroughput: -1,
        uploadThroughput: -1,
      });
    await page.goto(`${url}/`, { waitUntil: "commit", timeout: 30_000 });
    await page.waitForFunction(() => window.__benchList?.painted !== undefined, null, { timeout: 60_000, polling: 50 });
    // The paint timing entry is queued after the paint it reports.
    await page.waitForFunction(() => performance.getEntriesByName("first-contentful-paint").length > 0, null, {
      timeout: 10_000,
      polling: 50,
    });
    const timing = await page.evaluate(() => ({
      origin: performance.timeOrigin,
      fcp: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN,
      list: window.__benchList.painted,
    }));
    // Whatever the load still fetches counts towards its transfer.
    await page.waitForLoadState("networkidle", { timeout: 10_000 }).catch(() => {});
    await cdp.detach().catch(() => {});

    const all = [...requests.values()];
    const document = all.find((r) => r.type === "Document" && new URL(r.url).pathname === "/");
    if (!document) throw new Error("the load made no document request for /");
    // CDP's timestamps are a monotonic clock; the page's are wall time from its origin.
    const listAt = timing.origin + timing.list - (document.wall - document.start);
    const done = all.filter((r) => r.end !== undefined && r.end <= listAt);
    const waited = done.filter((r) => r === document || waitedFor(build, r));
    const chain = longestChain(document, waited);
    const bytes = (type) => all.filter((r) => r.type === type).reduce((sum, r) => sum + (r.bytes ?? 0), 0);
    return {
      fcp: timing.fcp,
      list: timing.list,
      depth: chain.length,
      chain: chain.map(shortName),
      requests: done.length,
      others: done.filter((r) => !waited.includes(r)).map((r) => shortName(r.url)),
      html: bytes("Document"),
      js: bytes("Script"),
    };
  } finally {
    await context.close();
  }
}

/**
 * Whether the list waits for a request: the home route's modules (as part 1 finds them for "/"),
 * stylesheets (the router waits for a route's CSS before it renders it) and fonts, and the tRPC
 * calls that answer who is signed in and the first page of notes (a batch counts if it holds one).
 * Not: the favicon, the error page's node (the router loads it at start, unawaited), the tags.
 */
function waitedFor(build, request) {
  const { pathname } = new URL(request.url);
  if (request.type === "Stylesheet" || request.type === "Font") return true;
  if (pathname.startsWith("/api/v1/trpc/"))
    return pathname
      .slice("/api/v1/trpc/".length)
      .split(",")
      .some((procedure) => procedure === "auth.me" || procedure === "notes.list");
  build.homeModules ??= new Set(
    [...routeModules(path.join(build.dir, "apps/web/build"), "/").page].map(
      (file) => `/${path.relative(path.join(build.dir, "apps/web/build"), file).split(path.sep).join("/")}`,
    ),
  );
  return build.homeModules.has(pathname);
}

/** The scripts (by address) that asked for a request, as CDP reports them: its initiator and call stack. */
function callers(initiator) {
  const found = new Set();
  if (initiator.type === "script" && initiator.url?.startsWith("http")) found.add(initiator.url);
  for (let stack = initiator.stack; stack; stack = stack.parent)
    for (const frame of stack.callFrames) if (frame.url.startsWith("http")) found.add(frame.url);
  return found;
}

/**
 * The longest run of `requests` in which each was caused by the one before and started once it
 * had finished, from the HTML (`document`). On loopback a request often finishes before a sibling
 * is even sent, so timing alone would make chains of requests that do not depend on each other:
 * a request the HTML names (Chromium reports the parser or the preload scanner as its initiator)
 * follows the HTML only; one a script asked for follows the scripts on its initiator's stack, and
 * an API call also any API call answered before it (it may need the answer); one with no known
 * script (a dynamic import reports none) follows any script or the HTML finished before it, but
 * not a sibling the same call asked for, and a stylesheet leads only to fonts and images.
 */
function longestChain(document, requests) {
  const sorted = [...requests].sort((a, b) => a.start - b.start);
  const fetched = new Set(sorted.map((r) => r.url));
  const api = (r) => r.type === "Fetch" || r.type === "XHR";
  const follows = (request, earlier) => {
    if (request.named) return earlier === document;
    if (earlier.end > request.start) return false;
    if (api(request) && api(earlier)) return true;
    if ([...request.callers].some((url) => fetched.has(url))) return request.callers.has(earlier.url);
    if (earlier.initiator === request.initiator) return false;
    if (earlier.type === "Stylesheet") return request.type === "Font" || request.type === "Image";
    return earlier.type === "Document" || earlier.type === "Script";
  };
  const best = new Map([[document, [document]]]);
  for (const request of sorted) {
    if (request === document) continue;
    let before = document;
    for (const earlier of sorted)
      if (best.has(earlier) && best.get(earlier).length > best.get(before).length && follows(request, earlier))
        before = earlier;
    best.set(request, [...best.get(before), request]);
  }
  let longest = [];
  for (const chain of best.values()) if (chain.length > longest.length) longest = chain;
  return longest.map((request) => request.url);
}

/** A request's path, short: hashed assets without their directory, tRPC calls by their procedures. */
function shortName(url) {
  const { pathname } = new URL(url);
  if (pathname.startsWith("/api/v1/trpc/")) return `trpc ${pathname.slice("/api/v1/trpc/".length)}`;
  if (pathname.startsWith("/_app/immutable/")) return pathname.slice("/_app/immutable/".length);
  return pathname;
}
