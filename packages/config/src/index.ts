// Environment parsing: the only module in Notebox that reads process.env.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { z } from "zod";

const GiB = 1024 ** 3;

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"], { error: "expected true or false" })
  .transform((v) => v === "true" || v === "1" || v === "yes");

const byteSize = z
  .string()
  .regex(/^\d+\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)?$/i, {
    error: "expected a size in bytes, e.g. 1073741824 or 1GiB",
  })
  .transform((v) => {
    const m = /^(\d+)\s*([a-z]*)$/i.exec(v)!;
    const units: Record<string, number> = {
      "": 1,
      b: 1,
      kb: 1e3,
      kib: 1024,
      mb: 1e6,
      mib: 1024 ** 2,
      gb: 1e9,
      gib: GiB,
      tb: 1e12,
      tib: 1024 ** 4,
    };
    return Number(m[1]) * units[m[2]!.toLowerCase()]!;
  })
  .refine((n) => Number.isSafeInteger(n) && n > 0, { error: "expected a positive size" });

const port = z.coerce
  .number({ error: "expected a port number" })
  .int({ error: "expected a port number" })
  .min(0, { error: "expected a port number between 0 and 65535" })
  .max(65535, { error: "expected a port number between 0 and 65535" });

const workerCount = z
  .string()
  .regex(/^([1-9]\d*|auto)$/i, { error: "expected a number of server processes (1 or more) or auto" })
  .transform((v): number | "auto" => (v.toLowerCase() === "auto" ? "auto" : Number(v)));

const url = (protocols: string[], example: string) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { error: `expected a URL like ${example}` },
  );

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: port.default(3000),
  PUBLIC_URL: url(["http:", "https:"], "https://notes.example.com").optional(),
  DATA_DIR: z.string().min(1).default("./data"),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:.+|mysql:\/\/.+|mariadb:\/\/.+)$/, {
      error: "expected sqlite:PATH or mysql://user:pass@host:port/db",
    })
    .optional(),
  REDIS_URL: url(["redis:", "rediss:"], "redis://127.0.0.1:6379").optional(),
  WORKERS: workerCount.default("auto"),
  STORAGE_URL: z
    .string()
    .regex(/^(file:.+|s3:\/\/.+)$/, { error: "expected file:PATH or s3://bucket?endpoint=..." })
    .optional(),
  SMTP_URL: url(["smtp:", "smtps:"], "smtp://user:pass@host:587").optional(),
  MAIL_FROM: z.string().min(3).default("Notebox <no-reply@localhost>"),
  JWT_SECRET: z
    .string()
    .refine((v) => Buffer.byteLength(v) >= 32, { error: "expected at least 32 bytes of random text" })
    .optional(),
  MAX_UPLOAD_BYTES: byteSize.default(GiB),
  USER_QUOTA_BYTES: byteSize.default(10 * GiB),
  TRUST_PROXY: bool.default(false),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  METRICS_TOKEN: z
    .string()
    .refine((v) => Buffer.byteLength(v) >= 16, { error: "expected at least 16 bytes of random text" })
    .optional(),
  METRICS_PORT: port.optional(),
  METRICS_HOST: z
    .union([z.ipv4(), z.ipv6(), z.hostname()], { error: "expected an address to listen on, e.g. 127.0.0.1 or 0.0.0.0" })
    .default("127.0.0.1"),
  OIDC_ISSUER: z
    .url({ protocol: /^https?$/, error: "expected the provider's issuer URL, e.g. https://id.example.com" })
    .optional(),
  OIDC_CLIENT_ID: z.string().max(255).optional(),
  OIDC_CLIENT_SECRET: z.string().max(1024).optional(),
  OIDC_NAME: z.string().max(40, { error: "keep the button label to 40 characters" }).default("single sign-on"),
  OIDC_SCOPES: z.string().max(500).default("openid email profile"),
});

export interface Config {
  nodeEnv: "development" | "production" | "test";
  port: number;
  publicUrl: string;
  /** True when PUBLIC_URL is https: cookies get the Secure flag. */
  secureCookies: boolean;
  dataDir: string;
  databaseUrl: string;
  redisUrl: string | undefined;
  /**
   * Server processes `notebox serve` runs on PORT: 1 serves in the process itself; more makes it
   * the primary of that many workers (node:cluster). Always 1 with SQLite.
   */
  workers: number;
  storageUrl: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  jwtSecret: string;
  maxUploadBytes: number;
  userQuotaBytes: number;
  trustProxy: boolean;
  logLevel: string;
  /** Bearer token /metrics asks for; unset = no token (then only METRICS_PORT serves them). */
  metricsToken: string | undefined;
  /** A listener of its own for /metrics, which the main port then never serves; unset = none. */
  metricsPort: number | undefined;
  /** The address the metrics listener binds. */
  metricsHost: string;
  /** Sign-in with an OpenID Connect provider; null when OIDC_ISSUER is unset. */
  oidc: OidcConfig | null;
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  /** Unset: a public client (PKCE only). */
  clientSecret: string | undefined;
  /** The sign-in button's label: "Sign in with {name}". */
  name: string;
  scopes: string;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

/**
 * Parses the environment once. Empty strings count as unset, so `FOO=` in a compose file
 * falls back to the default instead of failing.
 */
// eslint-disable-next-line no-restricted-properties -- this module is the one place that reads it
export function loadConfig(env: Env = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`));
  }
  const e = parsed.data;
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT) {
    throw new ConfigError([`METRICS_PORT: must differ from PORT (${e.PORT})`]);
  }
  const dataDir = path.resolve(e.DATA_DIR);
  const databaseUrl = e.DATABASE_URL ?? `sqlite:${path.join(dataDir, "notebox.db")}`;
  // A database in memory lives in one process: a second would have a database of its own. A
  // SQLite file may be served by several (packages/db/src/sqlite: each process's writer waits its
  // turn for the file's write lock in a worker thread, never on the event loop).
  const inMemory = databaseUrl === "sqlite::memory:";
  if (inMemory && e.WORKERS !== "auto" && e.WORKERS > 1) {
    throw new ConfigError([
      `WORKERS: a database in memory is served by one process; set WORKERS=1, or keep the database in a file for ${e.WORKERS} processes`,
    ]);
  }
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, "");

  if (e.OIDC_ISSUER && !e.OIDC_CLIENT_ID) throw new ConfigError(["OIDC_CLIENT_ID: required with OIDC_ISSUER"]);
  const scopes = e.OIDC_SCOPES.split(/\s+/).filter(Boolean);
  if (e.OIDC_ISSUER && !scopes.includes("openid")) throw new ConfigError(["OIDC_SCOPES: must include openid"]);

  let jwtSecret = e.JWT_SECRET;
  if (!jwtSecret) {
    if (e.NODE_ENV === "production") {
      throw new ConfigError(["JWT_SECRET: required when NODE_ENV=production (at least 32 random bytes)"]);
    }
    jwtSecret = readOrCreateSecret(dataDir);
  }

  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    publicUrl,
    secureCookies: publicUrl.startsWith("https:"),
    dataDir,
    databaseUrl,
    redisUrl: e.REDIS_URL,
    workers: e.WORKERS !== "auto" ? e.WORKERS : inMemory ? 1 : availableParallelism(),
    storageUrl: e.STORAGE_URL ?? `file:${path.join(dataDir, "files")}`,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    jwtSecret,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    userQuotaBytes: e.USER_QUOTA_BYTES,
    trustProxy: e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    metricsToken: e.METRICS_TOKEN,
    metricsPort: e.METRICS_PORT,
    metricsHost: e.METRICS_HOST,
    oidc: e.OIDC_ISSUER
      ? {
          issuer: e.OIDC_ISSUER.replace(/\/+$/, ""),
          clientId: e.OIDC_CLIENT_ID!,
          clientSecret: e.OIDC_CLIENT_SECRET,
          name: e.OIDC_NAME,
          scopes: scopes.join(" "),
        }
      : null,
  };
}

/** The embedded default keeps a generated secret beside its database so restarts keep sessions and codes valid. */
function readOrCreateSecret(dataDir: string): string {
  const file = path.join(dataDir, "secret.key");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString("base64url");
  try {
    writeFileSync(file, secret + "\n", { mode: 0o600, flag: "wx" });
    return secret;
  } catch (error) {
    // Another process starting at the same moment wrote it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return readFileSync(file, "utf8").trim();
    throw error;
  }
}
