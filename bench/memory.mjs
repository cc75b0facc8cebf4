// bench/memory: does the server hold on to memory? RSS after 100,000 mixed requests (lists,
// searches, reads, writes, file listing and download, session checks) vs RSS after a warm-up of
// the same mix. Target (DESIGN §6): <= 1.2x. SQLite, in-process caches, one signed-in person.
// The server (dist/bench-entry.js) runs with node's --expose-gc: after each phase a full garbage
// collection is forced (GET /bench/gc), then RSS is read READS times, READ_GAP_MS apart; the ratio
// is of the medians, each printed with its range, so garbage not yet collected and one odd reading
// move it less.
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { benchEntry, cannon, fmt, run, signIn, spread, startNotebox } from "./lib/notebox.mjs";

const total = Number(process.env.BENCH_MEMORY_REQUESTS ?? 100_000);
const warmup = Math.round(total / 10);
const connections = 10;
const READS = 5;
const READ_GAP_MS = 200;

const rssMb = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;

const server = await startNotebox({}, { entry: benchEntry, nodeArgs: ["--expose-gc"] });
try {
  const email = "memory@example.test";
  const password = "bench passphrase for memory";
  await run(["create-admin", "--email", email, "--username", "memory", "--password-stdin"], server.env, password);
  const cookie = await signIn(server, email, password);
  const origin = `http://localhost:${new URL(server.url).port}`;
  const headers = { cookie, origin, "content-type": "application/json" };

  const trpc = (path, input) => `/api/v1/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`;
  const created = await fetch(`${server.url}/api/v1/trpc/notes.create`, {
    method: "POST",
    headers,
    body: JSON.stringify({ title: "A note to read", description: "Read again and again, **in Markdown**." }),
  }).then((r) => r.json());
  const form = new FormData();
  form.append("file", new Blob([Buffer.alloc(64 * 1024, 7)]), "sample.bin");
  const uploaded = await fetch(`${server.url}/api/v1/files`, {
    method: "POST",
    headers: { cookie, origin },
    body: form,
  }).then((r) => r.json());

  let n = 0;
  const requests = [
    { method: "GET", path: trpc("notes.list", { limit: 20 }) },
    { method: "GET", path: trpc("notes.get", { id: created.result.data.id }) },
    { method: "GET", path: trpc("notes.search", { q: "note" }) },
    { method: "GET", path: "/api/v1/trpc/auth.me" },
    { method: "GET", path: trpc("files.list", {}) },
    { method: "GET", path: `/api/v1/files/${uploaded.items[0].id}/content` },
    {
      method: "POST",
      path: "/api/v1/trpc/notes.create",
      // A different note each time, so lists, searches and the caches keep changing.
      setupRequest: (req) => ({
        ...req,
        body: JSON.stringify({ title: `Mixed load note ${n++}`, description: `text ${n} `.repeat(20) }),
      }),
    },
  ];
  const drive = (amount) => cannon({ url: server.url, headers, connections, amount, requests });

  /** A forced full collection, then READS readings of RSS; their median and range, and the heap left. */
  const settled = async () => {
    await sleep(1_000);
    const collected = await fetch(`${server.url}/bench/gc`).then((r) => r.json());
    if (!collected.gc) throw new Error("the server cannot collect on demand: is it running with --expose-gc?");
    const reads = [];
    for (let i = 0; i < READS; i++) {
      if (i > 0) await sleep(READ_GAP_MS);
      reads.push(rssMb(server.pid));
    }
    return { ...spread(reads), heapMb: collected.heapUsed / 2 ** 20 };
  };
  const show = ({ median, min, max, heapMb }) =>
    `${fmt(median)} MB (${READS} reads: ${fmt(min)}–${fmt(max)} MB; heap used after the collection ${fmt(heapMb)} MB)`;

  const warm = await drive(warmup);
  const afterWarmup = await settled();
  const main = await drive(total);
  const afterMain = await settled();
  const ratio = afterMain.median / afterWarmup.median;
  const errors = warm.errors + warm.non2xx + main.errors + main.non2xx;

  console.log("bench/memory");
  console.log(
    `  mix of 7 requests (list, get, search, me, files.list, 64 KB download, create), ${connections} connections, SQLite`,
  );
  console.log(`  RSS after a forced GC, median of ${READS} reads ${READ_GAP_MS} ms apart:`);
  console.log(`  after ${warmup} warm-up requests: ${show(afterWarmup)}`);
  console.log(`  after ${total} more requests:    ${show(afterMain)}`);
  console.log(`  (${fmt(main.requests.average, 0)} req/s, errors ${errors})`);
  console.log(
    `  ratio of the medians = ${fmt(ratio, 2)}x (reads: ${fmt(afterMain.min / afterWarmup.max, 2)}–${fmt(afterMain.max / afterWarmup.min, 2)}x) ` +
      `(target <= 1.2x) ${ratio <= 1.2 && errors === 0 ? "PASS" : "MISS"}`,
  );
} finally {
  await server.stop();
}
