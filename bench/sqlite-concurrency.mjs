// bench/sqlite-concurrency: the embedded default (SQLite, local files) under 50 concurrent clients
// doing what people do (create, update, trash, list, search, auth.me, small uploads) for 2 minutes,
// while another process samples /healthz every 200 ms and /metrics every second. Targets: no
// request over 2 s, /healthz p99 <= 100 ms, the event loop's maximum delay < 200 ms.
//
// BENCH_BASELINE=<a checkout of an earlier commit, built> runs the same load on that build too and
// prints the throughput beside this one. BENCH_SOAK=1 runs 10 minutes and prints the server's RSS
// at each minute (target: flat within 20% after the first minute). BENCH_SECONDS sets the length.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { cli, fmt, startNotebox } from "./lib/notebox.mjs";

const soak = process.env.BENCH_SOAK === "1";
const seconds = Number(process.env.BENCH_SECONDS ?? (soak ? 600 : 120));
const CLIENTS = 50;
const PEOPLE = 5;
const METRICS_TOKEN = "bench-metrics-token-0123456789abcdef";

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
};
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;

function runCli(entry, args, env, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], {
      env: { ...process.env, ...env },
      stdio: ["pipe", "ignore", "inherit"],
    });
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${args[0]} exited ${code}`))));
    child.stdin.end(input ?? "");
  });
}

/** Samples /healthz every 200 ms from a process of its own, so this one's load cannot delay the samples. */
function healthSampler(url, untilMs) {
  const script = `
    const times = [];
    const end = Date.now() + ${untilMs};
    const tick = async () => {
      const started = performance.now();
      try { await (await fetch(${JSON.stringify(url)} + "/healthz")).text(); times.push(performance.now() - started); }
      catch { times.push(Infinity); }
    };
    const timer = setInterval(() => { if (Date.now() > end) { clearInterval(timer); setTimeout(() => process.stdout.write(JSON.stringify(times)), 500); } else void tick(); }, 200);
  `;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  return new Promise((resolve) => child.on("close", () => resolve(JSON.parse(out || "[]"))));
}

async function measure(label, entry) {
  const server = await startNotebox({ METRICS_TOKEN, USER_QUOTA_BYTES: String(1024 ** 3) }, { entry, args: ["serve"] });
  try {
    const origin = `http://localhost:${new URL(server.url).port}`;
    console.log(`  ${label}: serving at ${server.url}`);
    const people = [];
    for (let i = 0; i < PEOPLE; i++) {
      const email = `bench${i}@example.test`;
      const password = `bench passphrase number ${i}`;
      await runCli(
        entry,
        ["create-admin", "--email", email, "--username", `bench${i}`, "--password-stdin"],
        server.env,
        password,
      );
      const res = await fetch(`${server.url}/api/v1/trpc/auth.login`, {
        method: "POST",
        headers: { "content-type": "application/json", origin },
        body: JSON.stringify({ email, password }),
      });
      if (!res.ok) throw new Error(`sign-in ${res.status}`);
      const session = res.headers.getSetCookie().find((c) => c.startsWith("notebox_session="));
      people.push({ cookie: session.split(";")[0], notes: [] });
    }

    const reported = new Set();
    const call = async (person, procedure, input, method = "POST") => {
      const url =
        method === "GET"
          ? `${server.url}/api/v1/trpc/${procedure}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`
          : `${server.url}/api/v1/trpc/${procedure}`;
      const res = await fetch(url, {
        method,
        headers: { "content-type": "application/json", cookie: person.cookie, origin },
        body: method === "GET" ? undefined : JSON.stringify(input),
      });
      const body = await res.json();
      if (res.status === 400 && !reported.has(procedure)) {
        reported.add(procedure);
        console.log(
          `    ${procedure} answered 400: ${JSON.stringify(body?.error?.json?.message ?? body?.error?.message ?? body)}`,
        );
      }
      return { status: res.status, data: body?.result?.data };
    };
    const words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split(" ");
    const text = (n) => Array.from({ length: n }, (_, k) => words[(n * 7 + k) % words.length]).join(" ");

    const operations = [
      [
        25,
        async (p) => {
          const r = await call(p, "notes.create", {
            title: `Note ${Math.random().toString(36).slice(2, 8)}`,
            description: text(60),
          });
          if (r.status === 200) p.notes.push({ id: r.data.id, version: r.data.version });
          return r.status;
        },
      ],
      [
        15,
        async (p) => {
          const note = p.notes[Math.floor(Math.random() * p.notes.length)];
          if (!note) return 200;
          const r = await call(p, "notes.update", { id: note.id, version: note.version, description: text(80) });
          if (r.status === 200) note.version = r.data.version;
          return r.status === 409 ? 200 : r.status; // another client of the same person saved first
        },
      ],
      [
        5,
        async (p) => {
          const note = p.notes.pop();
          return note ? (await call(p, "notes.delete", { id: note.id })).status : 200;
        },
      ],
      [25, async (p) => (await call(p, "notes.list", { limit: 20 }, "GET")).status],
      [
        15,
        async (p) =>
          (await call(p, "notes.search", { q: words[Math.floor(Math.random() * words.length)] }, "GET")).status,
      ],
      [5, async (p) => (await call(p, "auth.me", undefined, "GET")).status],
      [
        10,
        async (p) => {
          const form = new FormData();
          form.append("file", new Blob([Buffer.alloc(16 * 1024, 97)], { type: "text/plain" }), "small.txt");
          const res = await fetch(`${server.url}/api/v1/files`, {
            method: "POST",
            headers: { cookie: p.cookie, origin },
            body: form,
          });
          await res.text();
          return res.status;
        },
      ],
    ];
    const totalWeight = operations.reduce((s, [w]) => s + w, 0);
    const pick = () => {
      let r = Math.random() * totalWeight;
      for (const [w, op] of operations) if ((r -= w) < 0) return op;
      return operations[0][1];
    };

    const durationMs = seconds * 1000;
    const latencies = [];
    const failures = new Map();
    let loopMaxMs = 0;
    const rss = [];
    const end = Date.now() + durationMs;
    const sampling = healthSampler(server.url, durationMs);
    const metricsTimer = setInterval(async () => {
      try {
        const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
        const match = /^notebox_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(await res.text());
        if (match) loopMaxMs = Math.max(loopMaxMs, Number(match[1]) * 1000);
      } catch {
        // counted by the /healthz sampler
      }
    }, 1000);
    const started = Date.now();
    const rssTimer = soak ? setInterval(() => rss.push(rssMb(server.pid)), 60_000) : null;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const person = people[i % PEOPLE];
        while (Date.now() < end) {
          const t0 = performance.now();
          let status;
          try {
            status = await pick()(person);
          } catch (error) {
            status = error.code ?? "error";
          }
          latencies.push(performance.now() - t0);
          if (status !== 200 && status !== 201) failures.set(status, (failures.get(status) ?? 0) + 1);
        }
      }),
    );
    const elapsed = (Date.now() - started) / 1000;
    clearInterval(metricsTimer);
    if (rssTimer) clearInterval(rssTimer);
    const health = await sampling;
    return { label, throughput: latencies.length / elapsed, latencies, failures, health, loopMaxMs, rss };
  } finally {
    await server.stop();
  }
}

function report(r) {
  const max = r.latencies.reduce((a, b) => Math.max(a, b), 0);
  const healthP99 = percentile(r.health, 0.99);
  console.log(`  ${r.label}: ${fmt(r.throughput, 0)} req/s over ${seconds} s, ${CLIENTS} clients`);
  console.log(
    `    requests p50 ${fmt(percentile(r.latencies, 0.5))} ms  p99 ${fmt(percentile(r.latencies, 0.99))} ms  max ${fmt(max)} ms (target <= 2000) ${max <= 2000 ? "PASS" : "FAIL"}`,
  );
  console.log(
    `    /healthz p50 ${fmt(percentile(r.health, 0.5))} ms  p90 ${fmt(percentile(r.health, 0.9))} ms  p99 ${fmt(healthP99)} ms  max ${fmt(r.health.reduce((a, b) => Math.max(a, b), 0))} ms over ${r.health.length} samples (target p99 <= 100) ${healthP99 <= 100 ? "PASS" : "FAIL"}`,
  );
  console.log(`    event loop max delay ${fmt(r.loopMaxMs)} ms (target < 200) ${r.loopMaxMs < 200 ? "PASS" : "FAIL"}`);
  if (r.failures.size)
    console.log(`    answers other than 200: ${[...r.failures].map(([s, n]) => `${s} x${n}`).join(", ")}`);
  if (r.rss.length) {
    const after = r.rss.slice(1);
    const spread = after.length ? (Math.max(...after) - Math.min(...after)) / Math.min(...after) : 0;
    console.log(
      `    RSS each minute: ${r.rss.map((m) => fmt(m, 0)).join(", ")} MB; spread after the first minute ${fmt(spread * 100)}% (target <= 20%) ${spread <= 0.2 ? "PASS" : "FAIL"}`,
    );
  }
}

console.log("bench/sqlite-concurrency");
const current = await measure("this build", cli);
report(current);
if (process.env.BENCH_BASELINE) {
  const baseline = await measure(
    `baseline (${process.env.BENCH_BASELINE})`,
    path.join(process.env.BENCH_BASELINE, "apps/server/dist/cli.js"),
  );
  report(baseline);
  console.log(`  throughput this build / baseline = ${fmt(current.throughput / baseline.throughput, 2)}`);
}
