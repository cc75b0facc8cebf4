// bench/memory: does the server hold on to memory? RSS after 100,000 mixed requests (lists,
// searches, reads, writes, file listing and download, session checks) vs RSS after a warm-up of
// the same mix. Target (DESIGN §6): <= 1.2x. SQLite, in-process caches, one signed-in person.
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { cannon, fmt, run, signIn, startNotebox } from "./lib/notebox.mjs";

const total = Number(process.env.BENCH_MEMORY_REQUESTS ?? 100_000);
const warmup = Math.round(total / 10);
const connections = 10;

const rssMb = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;

const server = await startNotebox();
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

  const warm = await drive(warmup);
  await sleep(2_000);
  const afterWarmup = rssMb(server.pid);
  const main = await drive(total);
  await sleep(2_000);
  const afterMain = rssMb(server.pid);
  const ratio = afterMain / afterWarmup;
  const errors = warm.errors + warm.non2xx + main.errors + main.non2xx;

  console.log("bench/memory");
  console.log(
    `  mix of 7 requests (list, get, search, me, files.list, 64 KB download, create), ${connections} connections, SQLite`,
  );
  console.log(`  RSS after ${warmup} warm-up requests: ${fmt(afterWarmup)} MB`);
  console.log(
    `  RSS after ${total} more requests:    ${fmt(afterMain)} MB  (${fmt(main.requests.average, 0)} req/s, errors ${errors})`,
  );
  console.log(`  ratio = ${fmt(ratio, 2)}x (target <= 1.2x) ${ratio <= 1.2 && errors === 0 ? "PASS" : "MISS"}`);
} finally {
  await server.stop();
}
