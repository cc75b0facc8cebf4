// Boots the real Notebox server on a free loopback port with its own database, data directory
// and SMTP server, and tears it all down afterwards.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "@notebox/config";
import { createPasswordHasher, usernameKey, type LimitRules } from "@notebox/core";
import { newId, type Role, type UserRow } from "@notebox/db";
import { pino, type Logger } from "pino";
import { startServer, type RunningServer } from "../../src/server";
import { TestClient } from "./client";
import { createTestDatabase } from "./database";
import { testDb, testRedisUrl } from "./env";
import { codeFrom, startSmtp, type TestSmtp } from "./smtp";

/** Generous limits so ordinary tests never trip them; throttling tests pass the real ones. */
export const relaxedLimits: LimitRules = {
  loginPerIp: { points: 10_000, duration: 60 },
  loginFailuresPerIp: { points: 10_000, duration: 60 },
  loginFailuresPerAccountIp: { points: 10_000, duration: 60 },
  loginFailuresPerAccount: { points: 10_000, duration: 60 },
  loginFailuresPerDevice: { points: 10_000, duration: 60 },
  passwordChecksPerSession: { points: 10_000, duration: 60 },
  secondFactorPerAccount: { points: 10_000, duration: 60 },
  codeAttemptsPerIp: { points: 10_000, duration: 60 },
  accountRequestsPerIp: { points: 10_000, duration: 60 },
  mailPerAddressMinute: { points: 10_000, duration: 60 },
  mailPerAddressHour: { points: 10_000, duration: 60 },
  exportsPerUser: { points: 10_000, duration: 60 },
};

export interface TestServer {
  url: string;
  server: RunningServer;
  smtp: TestSmtp;
  dataDir: string;
  models: RunningServer["runtime"]["deps"]["db"]["models"];
  client(options?: { origin?: string | null; headers?: Record<string, string> }): TestClient;
  close(): Promise<void>;
}

export interface TestServerOptions {
  limitRules?: Partial<LimitRules>;
  env?: Record<string, string>;
  /** Use the shared Redis (when TEST_REDIS_URL is set) for rate limits. Defaults to on for the MySQL run. */
  redis?: boolean;
  /** Where the server logs; silent by default. */
  logger?: Logger;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "notebox-test-"));
  const db = await createTestDatabase(dataDir);
  const smtp = await startSmtp();
  const port = await freePort();
  const useRedis = (options.redis ?? testDb === "mysql") && testRedisUrl;
  const config = loadConfig({
    NODE_ENV: "test",
    PORT: String(port),
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    SMTP_URL: smtp.url,
    LOG_LEVEL: "silent",
    ...(useRedis ? { REDIS_URL: testRedisUrl } : {}),
    ...options.env,
  });
  const server = await startServer(config, {
    logger: options.logger ?? pino({ level: "silent" }),
    limitRules: options.limitRules ?? relaxedLimits,
    redisPrefix: `nbtest:${randomBytes(6).toString("hex")}`,
  });
  return {
    url: server.url,
    server,
    smtp,
    dataDir,
    models: server.runtime.deps.db.models,
    client: ({ origin, headers } = {}) =>
      new TestClient(server.url, origin === undefined ? config.publicUrl : origin, headers),
    async close() {
      await server.close();
      await smtp.close();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
/** A unique, valid account description for one test. */
export function newAccount(prefix = "user") {
  const n = `${Date.now().toString(36)}${(counter++).toString(36)}${randomBytes(2).toString("hex")}`;
  return {
    username: `${prefix}_${n}`.slice(0, 32),
    email: `${prefix}.${n}@example.test`,
    password: `correct horse ${n}`,
  };
}

/** Signs up through the API exactly as a person would: register, read the code from the mail, verify. */
export async function signUp(t: TestServer, client = t.client(), account = newAccount()) {
  const reg = await client.mutation("auth.register", account);
  if (reg.status !== 200) throw new Error(`register failed: ${JSON.stringify(reg.error)}`);
  const mail = await t.smtp.waitFor(account.email, /code/i);
  const verified = await client.mutation<{ user: { id: string } }>("auth.verifyEmail", {
    email: account.email,
    code: codeFrom(mail),
  });
  if (verified.status !== 200) throw new Error(`verify failed: ${JSON.stringify(verified.error)}`);
  return { client, account, user: verified.data.user };
}

/** Creates a verified account directly in the database (for tests about something other than sign-up). */
export async function createUser(
  t: TestServer,
  { role = "user", disabled = false }: { role?: Role; disabled?: boolean } = {},
) {
  const account = newAccount(role);
  const now = new Date();
  const user: UserRow = await t.models.User.create({
    id: newId(),
    username: account.username,
    usernameKey: usernameKey(account.username),
    email: account.email,
    passwordHash: await hasher.hash(account.password),
    role,
    emailVerifiedAt: now,
    disabledAt: disabled ? now : null,
    tokensValidAfter: new Date(now.getTime() - 1000),
    passwordChangedAt: now,
  });
  return { user, account };
}

const hasher = createPasswordHasher();

export async function signIn(t: TestServer, account: { email: string; password: string }, client = t.client()) {
  const res = await client.mutation("auth.login", { email: account.email, password: account.password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.error)}`);
  return client;
}
