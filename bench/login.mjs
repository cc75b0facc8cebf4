// bench/login: the Argon2id cost of one hash, and whether a flood of sign-ins hurts everyone else:
// auth.me p99 while idle vs during the flood (target: flood p99 <= 2x idle), and a real sign-in
// from the owner's browser, which signed in before, idle vs during the flood (target: <= 3x).
// Idle and flood alternate in BENCH_PAIRS (5) pairs (idle first, then flood first, ...), each side
// BENCH_SECONDS (5) s of auth.me and up to 30 real sign-ins; the targets apply to the median of the
// per-pair ratios, printed with their range.
import { hash } from "@node-rs/argon2";
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { alternate, cannon, fmt, median, run, spread, startNotebox } from "./lib/notebox.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const PAIRS = Math.max(3, Number(process.env.BENCH_PAIRS ?? 5));
/** Before each side: the last flood's queued hashes finish, whichever side comes next. */
const SETTLE_MS = 1500;

const hashTimes = [];
for (let i = 0; i < 15; i++) {
  const started = performance.now();
  await hash(`bench password ${i}`, { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 });
  hashTimes.push(performance.now() - started);
}

const server = await startNotebox({ TRUST_PROXY: "true" });
try {
  const email = "bench@example.test";
  const password = "bench passphrase for sign-in";
  await run(["create-admin", "--email", email, "--username", "bench", "--password-stdin"], server.env, password);
  const login = await fetch(`${server.url}/api/v1/trpc/auth.login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: `http://localhost:${new URL(server.url).port}` },
    body: JSON.stringify({ email, password }),
  });
  const cookies = Object.fromEntries(login.headers.getSetCookie().map((c) => c.split(";")[0].split("=")));
  const cookie = `notebox_session=${cookies.notebox_session}`;
  const me = { url: `${server.url}/api/v1/trpc/auth.me`, headers: { cookie }, connections: 4, duration: seconds };

  /**
   * Sign-ins one after the other from the owner's own browser (its device cookie from the first
   * sign-in, its own address) until `until` resolves or `count` are done; their latencies in ms.
   * Each pair signs in from an address of its own: every attempt counts against its address's
   * hashing budget (100 in 15 minutes), which all the pairs together would use up.
   */
  const realSignIns = async ({ count, until, address }) => {
    const times = [];
    let stop = false;
    void until?.then(() => (stop = true));
    while (times.length < count && !stop) {
      const started = performance.now();
      const res = await fetch(`${server.url}/api/v1/trpc/auth.login`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          origin: `http://localhost:${new URL(server.url).port}`,
          cookie: `notebox_device=${cookies.notebox_device}`,
          "x-forwarded-for": address,
        },
        body: JSON.stringify({ email, password }),
      });
      await res.text();
      if (res.status !== 200) throw new Error(`real sign-in answered ${res.status}`);
      times.push(performance.now() - started);
    }
    return times;
  };
  const p99 = (values) =>
    [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.99))];

  const floodScript = fileURLToPath(new URL("./lib/flood.mjs", import.meta.url));
  const idleSide = async (pair) => {
    await sleep(SETTLE_MS);
    const meResult = await cannon(me);
    return { me: meResult, signIns: await realSignIns({ count: 30, address: `192.0.2.${pair + 1}` }) };
  };
  const floodSide = async (pair) => {
    await sleep(SETTLE_MS);
    const floodProcess = spawn(process.execPath, [floodScript, server.url, email, password, String(seconds + 2)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let floodOut = "";
    floodProcess.stdout.on("data", (d) => (floodOut += d));
    const flood = new Promise((resolve) => floodProcess.on("close", () => resolve(JSON.parse(floodOut))));
    await sleep(1000);
    const measuring = cannon(me);
    const signIns = await realSignIns({ count: 30, until: measuring, address: `192.0.2.${pair + 1}` });
    return { me: await measuring, signIns, flood: await flood };
  };

  await cannon({ ...me, duration: 2 }); // warm-up
  await realSignIns({ count: 3, address: "192.0.2.200" });
  const pairs = await alternate(PAIRS, idleSide, floodSide, (idle, busy) => ({
    me: busy.me.latency.p99 / idle.me.latency.p99,
    signIn: p99(busy.signIns) / p99(idle.signIns),
  }));
  const meRatios = pairs.ratios.map((r) => r.me);
  const signInRatios = pairs.ratios.map((r) => r.signIn);
  const perPair = (side, pick) => fmt(median(pairs[side].map(pick)));
  const range = (values) => {
    const { median: m, min, max } = spread(values);
    return `${fmt(m, 2)} (pairs: ${fmt(min, 2)}–${fmt(max, 2)})`;
  };
  const codes = {};
  for (const { flood } of pairs.b)
    for (const [code, count] of Object.entries(flood.codes)) codes[code] = (codes[code] ?? 0) + count;
  const idleSignIns = pairs.a.flatMap((r) => r.signIns);
  const busySignIns = pairs.b.flatMap((r) => r.signIns);
  const meErrors = [...pairs.a, ...pairs.b].reduce((n, r) => n + r.me.errors + r.me.non2xx, 0);

  console.log("bench/login");
  console.log(`  argon2id hash (m=19456 KiB, t=2, p=1): median ${fmt(median(hashTimes))} ms over ${hashTimes.length}`);
  console.log(
    `  ${PAIRS} alternated pairs, idle vs flood: auth.me for ${seconds} s (4 connections) and up to 30 real sign-ins per side; medians over the pairs`,
  );
  console.log(
    `  auth.me idle:         p50 ${perPair("a", (r) => r.me.latency.p50)} ms  p99 ${perPair("a", (r) => r.me.latency.p99)} ms  ${fmt(median(pairs.a.map((r) => r.me.requests.average)), 0)} req/s`,
  );
  console.log(
    `  auth.me during flood: p50 ${perPair("b", (r) => r.me.latency.p50)} ms  p99 ${perPair("b", (r) => r.me.latency.p99)} ms  ${fmt(median(pairs.b.map((r) => r.me.requests.average)), 0)} req/s  (auth.me errors ${meErrors})`,
  );
  console.log(
    `  login flood (32 connections, another process): median ${fmt(median(pairs.b.map((r) => r.flood.rps)), 1)} req/s (${Object.entries(
      codes,
    )
      .map(([c, count]) => `${c}: ${count}`)
      .join(", ")})`,
  );
  const meRatio = spread(meRatios).median;
  console.log(
    `  p99 during flood / idle = ${range(meRatios)} (target <= 2.00) ${meRatio <= 2 && meErrors === 0 ? "PASS" : "MISS"}`,
  );
  console.log(
    `  real sign-in (known browser) idle:         p50 ${fmt(median(idleSignIns))} ms  p99 ${fmt(p99(idleSignIns))} ms over ${idleSignIns.length}`,
  );
  console.log(
    `  real sign-in (known browser) during flood: p50 ${fmt(median(busySignIns))} ms  p99 ${fmt(p99(busySignIns))} ms over ${busySignIns.length}`,
  );
  const signInRatio = spread(signInRatios).median;
  console.log(
    `  sign-in p99 during flood / idle = ${range(signInRatios)} (target <= 3.00) ${signInRatio <= 3 ? "PASS" : "MISS"}`,
  );
} finally {
  await server.stop();
}
