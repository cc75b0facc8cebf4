import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/index";

const GiB = 1024 ** 3;
/** 48 characters: a valid secret, so tests that are not about the secret never write one. */
const SECRET = "s".repeat(48);

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "notebox-config-test-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The ConfigError `fn` throws; fails the test when it throws nothing or something else. */
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError, but nothing was thrown");
}

describe("defaults", () => {
  it("runs with no configuration at all on the embedded default", () => {
    const dataDir = tempDir();
    const config = loadConfig({ DATA_DIR: dataDir, JWT_SECRET: SECRET });
    expect(config).toMatchObject({
      nodeEnv: "development",
      port: 3000,
      publicUrl: "http://localhost:3000",
      secureCookies: false,
      dataDir,
      databaseUrl: `sqlite:${path.join(dataDir, "notebox.db")}`,
      redisUrl: undefined,
      storageUrl: `file:${path.join(dataDir, "files")}`,
      smtpUrl: undefined,
      mailFrom: "Notebox <no-reply@localhost>",
      maxUploadBytes: GiB,
      userQuotaBytes: 10 * GiB,
      trustProxy: false,
      logLevel: "info",
      metricsToken: undefined,
      metricsPort: undefined,
      metricsHost: "127.0.0.1",
      oidc: null,
    });
  });

  it("keeps data in ./data, resolved to an absolute path", () => {
    const config = loadConfig({ JWT_SECRET: SECRET });
    expect(config.dataDir).toBe(path.resolve("data"));
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    expect(config.databaseUrl).toBe(`sqlite:${path.join(path.resolve("data"), "notebox.db")}`);
    expect(config.storageUrl).toBe(`file:${path.join(path.resolve("data"), "files")}`);
  });

  it("builds the default PUBLIC_URL from PORT", () => {
    expect(loadConfig({ JWT_SECRET: SECRET, PORT: "8080" }).publicUrl).toBe("http://localhost:8080");
  });

  it("takes explicit values", () => {
    const config = loadConfig({
      JWT_SECRET: SECRET,
      NODE_ENV: "production",
      PORT: "0",
      PUBLIC_URL: "https://notes.example.com/",
      DATABASE_URL: "mysql://u:p@db:3306/notebox",
      REDIS_URL: "rediss://cache:6380",
      STORAGE_URL: "s3://bucket?endpoint=http://minio:9000&region=us-east-1&forcePathStyle=true",
      SMTP_URL: "smtps://u:p@mail.example.com:465",
      MAIL_FROM: "Notes <notes@example.com>",
      TRUST_PROXY: "true",
      LOG_LEVEL: "debug",
      METRICS_TOKEN: "m".repeat(16),
      METRICS_PORT: "9464",
      METRICS_HOST: "0.0.0.0",
    });
    expect(config).toMatchObject({
      nodeEnv: "production",
      port: 0,
      publicUrl: "https://notes.example.com",
      secureCookies: true,
      databaseUrl: "mysql://u:p@db:3306/notebox",
      redisUrl: "rediss://cache:6380",
      storageUrl: "s3://bucket?endpoint=http://minio:9000&region=us-east-1&forcePathStyle=true",
      smtpUrl: "smtps://u:p@mail.example.com:465",
      mailFrom: "Notes <notes@example.com>",
      jwtSecret: SECRET,
      trustProxy: true,
      logLevel: "debug",
      metricsToken: "m".repeat(16),
      metricsPort: 9464,
      metricsHost: "0.0.0.0",
      oidc: null,
    });
  });

  it.for([
    ["true", true],
    ["1", true],
    ["yes", true],
    ["false", false],
    ["0", false],
    ["no", false],
  ] as const)("reads TRUST_PROXY=%s as %s", ([value, expected]) => {
    expect(loadConfig({ JWT_SECRET: SECRET, TRUST_PROXY: value }).trustProxy).toBe(expected);
  });
});

describe("sizes", () => {
  it.for([
    ["1GiB", GiB],
    ["1 GiB", GiB],
    ["1gib", GiB],
    ["500MB", 500_000_000],
    ["500MiB", 500 * 1024 ** 2],
    ["64KiB", 64 * 1024],
    ["2TB", 2e12],
    ["1073741824", 1073741824],
    ["12345B", 12345],
    ["1", 1],
  ] as const)("parses %s as %i bytes", ([text, bytes]) => {
    const config = loadConfig({ JWT_SECRET: SECRET, MAX_UPLOAD_BYTES: text, USER_QUOTA_BYTES: text });
    expect(config.maxUploadBytes).toBe(bytes);
    expect(config.userQuotaBytes).toBe(bytes);
  });
});

describe("bad values stop start-up with a message naming the variable", () => {
  it.for([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["PORT", "-1"],
    ["PORT", "80.5"],
    ["PUBLIC_URL", "notaurl"],
    ["PUBLIC_URL", "ftp://notes.example.com"],
    ["DATABASE_URL", "postgres://x"],
    ["DATABASE_URL", "sqlite:"],
    ["REDIS_URL", "http://x"],
    ["STORAGE_URL", "gs://bucket"],
    ["SMTP_URL", "ftp://x"],
    ["JWT_SECRET", "short"],
    ["JWT_SECRET", "x".repeat(31)],
    ["MAX_UPLOAD_BYTES", "-5"],
    ["MAX_UPLOAD_BYTES", "0"],
    ["MAX_UPLOAD_BYTES", "1.5GB"],
    ["MAX_UPLOAD_BYTES", "lots"],
    ["USER_QUOTA_BYTES", "10 PB"],
    ["USER_QUOTA_BYTES", "99999999999999999999"],
    ["TRUST_PROXY", "maybe"],
    ["LOG_LEVEL", "loud"],
    ["NODE_ENV", "staging"],
    ["METRICS_TOKEN", "m".repeat(15)],
    ["METRICS_PORT", "abc"],
    ["METRICS_PORT", "70000"],
    ["METRICS_HOST", "http://0.0.0.0"],
    ["METRICS_HOST", "0.0.0.0:9464"],
  ] as const)("%s=%s", ([name, value]) => {
    const dataDir = tempDir();
    const error = configErrorOf(() => loadConfig({ DATA_DIR: dataDir, JWT_SECRET: SECRET, [name]: value }));
    expect(error.message).toContain(name);
    expect(error.problems).toEqual([expect.stringMatching(new RegExp(`^${name}: .+`))]);
    // The value is judged, not echoed: a bad secret must not end up in logs.
    if (name === "JWT_SECRET" || name === "METRICS_TOKEN") expect(error.message).not.toContain(value);
    expect(existsSync(path.join(dataDir, "secret.key"))).toBe(false);
  });

  it("names every bad variable at once", () => {
    const error = configErrorOf(() =>
      loadConfig({ JWT_SECRET: SECRET, PORT: "abc", LOG_LEVEL: "loud", REDIS_URL: "http://x" }),
    );
    expect(error.problems).toHaveLength(3);
    for (const name of ["PORT", "LOG_LEVEL", "REDIS_URL"]) expect(error.message).toContain(name);
  });

  it("accepts the edges of the port range", () => {
    expect(loadConfig({ JWT_SECRET: SECRET, PORT: "65535" }).port).toBe(65535);
    expect(loadConfig({ JWT_SECRET: SECRET, PORT: "0" }).port).toBe(0);
  });
});

describe("metrics", () => {
  it("takes a token of at least 16 bytes, counting bytes rather than characters", () => {
    expect(loadConfig({ JWT_SECRET: SECRET, METRICS_TOKEN: "m".repeat(16) }).metricsToken).toBe("m".repeat(16));
    // Eight two-byte characters: 16 bytes.
    expect(loadConfig({ JWT_SECRET: SECRET, METRICS_TOKEN: "é".repeat(8) }).metricsToken).toBe("é".repeat(8));
  });

  it("listens on an IPv6 address or a host name", () => {
    expect(loadConfig({ JWT_SECRET: SECRET, METRICS_HOST: "::" }).metricsHost).toBe("::");
    expect(loadConfig({ JWT_SECRET: SECRET, METRICS_HOST: "localhost" }).metricsHost).toBe("localhost");
  });

  it("refuses METRICS_PORT equal to PORT, which would leave metrics on the public port", () => {
    const error = configErrorOf(() => loadConfig({ JWT_SECRET: SECRET, PORT: "3000", METRICS_PORT: "3000" }));
    expect(error.problems).toEqual([expect.stringMatching(/^METRICS_PORT: /)]);
    expect(configErrorOf(() => loadConfig({ JWT_SECRET: SECRET, METRICS_PORT: "3000" })).message).toContain(
      "METRICS_PORT",
    );
    // Two ephemeral ports never collide.
    expect(loadConfig({ JWT_SECRET: SECRET, PORT: "0", METRICS_PORT: "0" }).metricsPort).toBe(0);
  });
});

describe("WORKERS", () => {
  it("runs one process per core by default, on an SQLite file as on MySQL/MariaDB", () => {
    const cores = os.availableParallelism();
    expect(loadConfig({ JWT_SECRET: SECRET, DATA_DIR: tempDir() }).workers).toBe(cores);
    expect(loadConfig({ JWT_SECRET: SECRET, DATABASE_URL: "mysql://u:p@127.0.0.1:3306/notebox" }).workers).toBe(cores);
    expect(loadConfig({ JWT_SECRET: SECRET, DATA_DIR: tempDir(), WORKERS: "auto" }).workers).toBe(cores);
    expect(loadConfig({ JWT_SECRET: SECRET, DATA_DIR: tempDir(), WORKERS: "3" }).workers).toBe(3);
  });

  it("keeps a database in memory in one process, and refuses more", () => {
    expect(loadConfig({ JWT_SECRET: SECRET, DATABASE_URL: "sqlite::memory:" }).workers).toBe(1);
    const error = configErrorOf(() =>
      loadConfig({ JWT_SECRET: SECRET, DATABASE_URL: "sqlite::memory:", WORKERS: "2" }),
    );
    expect(error.problems).toEqual([expect.stringMatching(/^WORKERS: a database in memory is served by one process/)]);
  });
});

describe("JWT_SECRET", () => {
  it("is required in production, and nothing is generated instead", () => {
    const dataDir = tempDir();
    const error = configErrorOf(() => loadConfig({ NODE_ENV: "production", DATA_DIR: dataDir }));
    expect(error.message).toContain("JWT_SECRET");
    expect(existsSync(path.join(dataDir, "secret.key"))).toBe(false);
  });

  it("is generated into DATA_DIR in development and reused on the next start", () => {
    const dataDir = path.join(tempDir(), "not-yet-created");
    const first = loadConfig({ DATA_DIR: dataDir });
    const file = path.join(dataDir, "secret.key");
    expect(existsSync(file)).toBe(true);
    expect(Buffer.byteLength(first.jwtSecret)).toBeGreaterThanOrEqual(32);
    expect(readFileSync(file, "utf8").trim()).toBe(first.jwtSecret);
    expect(statSync(file).mode & 0o077).toBe(0); // readable by the owner only

    const second = loadConfig({ DATA_DIR: dataDir });
    expect(second.jwtSecret).toBe(first.jwtSecret);
    expect(loadConfig({ DATA_DIR: dataDir, NODE_ENV: "test" }).jwtSecret).toBe(first.jwtSecret);
  });

  it("differs between two data directories", () => {
    const a = loadConfig({ DATA_DIR: tempDir() }).jwtSecret;
    const b = loadConfig({ DATA_DIR: tempDir() }).jwtSecret;
    expect(a).not.toBe(b);
  });

  it("uses an existing secret file, and an explicit JWT_SECRET wins over it", () => {
    const dataDir = tempDir();
    const stored = "k".repeat(40);
    writeFileSync(path.join(dataDir, "secret.key"), `${stored}\n`);
    expect(loadConfig({ DATA_DIR: dataDir }).jwtSecret).toBe(stored);
    expect(loadConfig({ DATA_DIR: dataDir, JWT_SECRET: SECRET }).jwtSecret).toBe(SECRET);
  });
});

describe("empty strings count as unset", () => {
  it("falls back to every default", () => {
    const dataDir = tempDir();
    const config = loadConfig({
      DATA_DIR: dataDir,
      JWT_SECRET: SECRET,
      NODE_ENV: "",
      PORT: "",
      PUBLIC_URL: "",
      DATABASE_URL: " ",
      REDIS_URL: "",
      STORAGE_URL: "",
      SMTP_URL: "",
      MAIL_FROM: "",
      MAX_UPLOAD_BYTES: "",
      USER_QUOTA_BYTES: "  ",
      TRUST_PROXY: "",
      LOG_LEVEL: "",
      METRICS_TOKEN: "",
      METRICS_PORT: "",
      METRICS_HOST: "",
    });
    expect(config).toMatchObject({
      nodeEnv: "development",
      port: 3000,
      publicUrl: "http://localhost:3000",
      databaseUrl: `sqlite:${path.join(dataDir, "notebox.db")}`,
      redisUrl: undefined,
      storageUrl: `file:${path.join(dataDir, "files")}`,
      smtpUrl: undefined,
      mailFrom: "Notebox <no-reply@localhost>",
      maxUploadBytes: GiB,
      userQuotaBytes: 10 * GiB,
      trustProxy: false,
      logLevel: "info",
      metricsToken: undefined,
      metricsPort: undefined,
      metricsHost: "127.0.0.1",
      oidc: null,
    });
  });

  it("treats an empty JWT_SECRET as missing: refused in production, generated in development", () => {
    const dataDir = tempDir();
    expect(
      configErrorOf(() => loadConfig({ NODE_ENV: "production", DATA_DIR: dataDir, JWT_SECRET: "" })).message,
    ).toContain("JWT_SECRET");
    const config = loadConfig({ DATA_DIR: dataDir, JWT_SECRET: "" });
    expect(Buffer.byteLength(config.jwtSecret)).toBeGreaterThanOrEqual(32);
    expect(existsSync(path.join(dataDir, "secret.key"))).toBe(true);
  });

  it("ignores undefined entries", () => {
    expect(loadConfig({ JWT_SECRET: SECRET, PORT: undefined }).port).toBe(3000);
  });
});
