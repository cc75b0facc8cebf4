// bench/login: the Argon2id cost of one hash, and whether a flood of sign-ins hurts everyone else:
// auth.me p99 while idle vs during the flood (target: flood p99 <= 2x idle), and a real sign-in
// from the owner's browser, which signed in before, idle vs during the flood (target: <= 3x).
import { hash } from "@node-rs/argon2";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { cannon, fmt, median, run, startNotebox } from "./lib/notebox.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);

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
   */
  const realSignIns = async ({ count, until }) => {
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
          "x-forwarded-for": "192.0.2.1",
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

  await cannon({ ...me, duration: 2 }); // warm-up
  const idle = await cannon(me);
  const idleSignIns = await realSignIns({ count: 30 });

  const floodScript = fileURLToPath(new URL("./lib/flood.mjs", import.meta.url));
  const floodProcess = spawn(process.execPath, [floodScript, server.url, email, password, String(seconds + 2)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let floodOut = "";
  floodProcess.stdout.on("data", (d) => (floodOut += d));
  const flood = new Promise((resolve) => floodProcess.on("close", () => resolve(JSON.parse(floodOut))));
  await new Promise((r) => setTimeout(r, 1000));
  const measuring = cannon(me);
  const busySignIns = await realSignIns({ count: 30, until: measuring });
  const busy = await measuring;
  const floodResult = await flood;

  const ratio = busy.latency.p99 / idle.latency.p99;
  console.log("bench/login");
  console.log(`  argon2id hash (m=19456 KiB, t=2, p=1): median ${fmt(median(hashTimes))} ms over ${hashTimes.length}`);
  console.log(
    `  auth.me idle:         p50 ${fmt(idle.latency.p50)} ms  p99 ${fmt(idle.latency.p99)} ms  ${fmt(idle.requests.average, 0)} req/s`,
  );
  console.log(
    `  auth.me during flood: p50 ${fmt(busy.latency.p50)} ms  p99 ${fmt(busy.latency.p99)} ms  ${fmt(busy.requests.average, 0)} req/s`,
  );
  const codes = Object.entries(floodResult.codes)
    .map(([c, count]) => `${c}: ${count}`)
    .join(", ");
  console.log(`  login flood (32 connections, another process): ${fmt(floodResult.rps, 1)} req/s (${codes})`);
  console.log(`  p99 during flood / idle = ${fmt(ratio, 2)} (target <= 2.00) ${ratio <= 2 ? "PASS" : "MISS"}`);
  const signInRatio = p99(busySignIns) / p99(idleSignIns);
  console.log(
    `  real sign-in (known browser) idle:         p50 ${fmt(median(idleSignIns))} ms  p99 ${fmt(p99(idleSignIns))} ms over ${idleSignIns.length}`,
  );
  console.log(
    `  real sign-in (known browser) during flood: p50 ${fmt(median(busySignIns))} ms  p99 ${fmt(p99(busySignIns))} ms over ${busySignIns.length}`,
  );
  console.log(
    `  sign-in p99 during flood / idle = ${fmt(signInRatio, 2)} (target <= 3.00) ${signInRatio <= 3 ? "PASS" : "MISS"}`,
  );
} finally {
  await server.stop();
}
