// bench/login: the Argon2id cost of one hash, and whether a flood of sign-ins hurts everyone else:
// auth.me p99 while idle vs during the flood (target: flood p99 <= 2x idle).
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
  const cookie = login.headers.getSetCookie()[0].split(";")[0];
  const me = { url: `${server.url}/api/v1/trpc/auth.me`, headers: { cookie }, connections: 4, duration: seconds };

  await cannon({ ...me, duration: 2 }); // warm-up
  const idle = await cannon(me);

  const floodScript = fileURLToPath(new URL("./lib/flood.mjs", import.meta.url));
  const floodProcess = spawn(process.execPath, [floodScript, server.url, email, password, String(seconds + 2)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let floodOut = "";
  floodProcess.stdout.on("data", (d) => (floodOut += d));
  const flood = new Promise((resolve) => floodProcess.on("close", () => resolve(JSON.parse(floodOut))));
  await new Promise((r) => setTimeout(r, 1000));
  const busy = await cannon(me);
  const floodResult = await flood;

  const ratio = busy.latency.p99 / idle.latency.p99;
  console.log("bench/login");
  console.log(`  argon2id hash (m=19456 KiB, t=2, p=1): median ${fmt(median(hashTimes))} ms over ${hashTimes.length}`);
  console.log(`  auth.me idle:         p50 ${fmt(idle.latency.p50)} ms  p99 ${fmt(idle.latency.p99)} ms  ${fmt(idle.requests.average, 0)} req/s`);
  console.log(`  auth.me during flood: p50 ${fmt(busy.latency.p50)} ms  p99 ${fmt(busy.latency.p99)} ms  ${fmt(busy.requests.average, 0)} req/s`);
  const codes = Object.entries(floodResult.codes).map(([c, count]) => `${c}: ${count}`).join(", ");
  console.log(`  login flood (32 connections, another process): ${fmt(floodResult.rps, 1)} req/s (${codes})`);
  console.log(`  p99 during flood / idle = ${fmt(ratio, 2)} (target <= 2.00) ${ratio <= 2 ? "PASS" : "MISS"}`);
} finally {
  await server.stop();
}
