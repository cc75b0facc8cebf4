// bench/list: what tRPC costs on the hottest read. notes.list (20 notes, signed in) through tRPC
// vs a bare Hono route in the same process running the same session check and the same query
// (dist/bench-entry.js). Target: tRPC throughput >= 70% of the bare route, measured with the read
// caches off (`--no-cache`), so both sides run the query on every request. The same pair is then
// measured with the caches on, for information.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { cannon, fmt, root, run, seedNotes, signIn, startNotebox, summarizeRuns as summary } from "./lib/notebox.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const noteCount = Number(process.env.BENCH_LIST_NOTES ?? 1000);
const connections = 10;
const rounds = 2;
const entry = path.join(root, "apps/server/dist/bench-entry.js");
const email = "lister@example.test";
const password = "bench passphrase for lists";

const dataDir = await mkdtemp(path.join(os.tmpdir(), "notebox-bench-list-"));
try {
  // The notes are written once; each mode then serves the same database.
  const seeding = await startNotebox({}, { entry, dataDir });
  await run(["create-admin", "--email", email, "--username", "lister", "--password-stdin"], seeding.env, password);
  await seedNotes(seeding, await signIn(seeding, email, password), noteCount);
  await seeding.stop();

  console.log("bench/list");
  console.log(
    `  user with ${noteCount} notes, 20 per page, SQLite; ${connections} connections, ${rounds} x ${seconds} s per side, alternating`,
  );
  const uncached = await measure(["--no-cache"]);
  report("caches off", uncached);
  const cached = await measure([]);
  report("caches on ", cached);
  const ratio = uncached.trpc.rps / uncached.bare.rps;
  console.log(
    `  tRPC / bare throughput (caches off) = ${fmt(ratio * 100, 0)}% (target >= 70%) ${ratio >= 0.7 ? "PASS" : "MISS"}`,
  );
  console.log(`  tRPC / bare throughput (caches on)  = ${fmt((cached.trpc.rps / cached.bare.rps) * 100, 0)}%`);
} finally {
  await rm(dataDir, { recursive: true, force: true });
}

async function measure(args) {
  const server = await startNotebox({}, { entry, args, dataDir });
  try {
    const cookie = await signIn(server, email, password);
    const trpc = {
      url: `${server.url}/api/v1/trpc/notes.list?input=${encodeURIComponent(JSON.stringify({ limit: 20 }))}`,
      headers: { cookie },
    };
    const bare = { url: `${server.url}/bench/bare-notes-list`, headers: { cookie } };
    // Both answer the same page, so the comparison is like for like.
    const [viaTrpc, viaBare] = await Promise.all(
      [trpc, bare].map((t) => fetch(t.url, { headers: t.headers }).then((r) => r.json())),
    );
    if (JSON.stringify(viaTrpc.result.data) !== JSON.stringify(viaBare))
      throw new Error("the two routes answer different pages");

    for (const target of [trpc, bare]) await cannon({ ...target, connections, duration: 3 }); // warm-up
    const results = { trpc: [], bare: [] };
    for (let r = 0; r < rounds; r++) {
      results.trpc.push(await cannon({ ...trpc, connections, duration: seconds }));
      results.bare.push(await cannon({ ...bare, connections, duration: seconds }));
    }
    return { trpc: summary(results.trpc), bare: summary(results.bare) };
  } finally {
    await server.stop();
  }
}

function report(label, { trpc, bare }) {
  console.log(
    `  ${label}  tRPC notes.list: ${fmt(trpc.rps, 0)} req/s  p50 ${fmt(trpc.p50)} ms  p99 ${fmt(trpc.p99)} ms  (errors ${trpc.errors})`,
  );
  console.log(
    `  ${label}  bare Hono route: ${fmt(bare.rps, 0)} req/s  p50 ${fmt(bare.p50)} ms  p99 ${fmt(bare.p99)} ms  (errors ${bare.errors})`,
  );
}
