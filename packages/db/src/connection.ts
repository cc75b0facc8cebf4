import { Sequelize, type Options } from "sequelize";
import { sqliteDriver } from "./sqlite/driver";

export type Dialect = "sqlite" | "mysql";

export interface ConnectionOptions {
  /** `sqlite:path` or `mysql://user:pass@host:port/db` (mariadb:// is accepted as an alias). */
  url: string;
  log?: (sql: string) => void;
  poolMax?: number;
}

export function dialectOf(url: string): Dialect {
  return url.startsWith("sqlite:") ? "sqlite" : "mysql";
}

/** The database file of a `sqlite:` URL (":memory:" or "" for a database in memory). */
export function sqliteStorage(url: string): string {
  return url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
}

export function createSequelize({ url, log, poolMax = 10 }: ConnectionOptions): Sequelize {
  const common: Options = {
    logging: log ? (sql: string) => log(sql) : false,
    benchmark: false,
    define: { underscored: true },
  };
  if (dialectOf(url) === "sqlite") {
    const storage = sqliteStorage(url);
    // better-sqlite3 in worker threads behind node-sqlite3's API: see sqlite/driver.ts. The
    // writer's busy timeout covers other processes; this process never waits on its own lock.
    return new Sequelize({ ...common, dialect: "sqlite", dialectModule: sqliteDriver, storage, retry: { max: 1 } });
  }
  const mysqlUrl = url.replace(/^mariadb:/, "mysql:");
  return new Sequelize(mysqlUrl, {
    ...common,
    dialect: "mysql",
    timezone: "+00:00",
    dialectOptions: { charset: "utf8mb4", connectTimeout: 5_000 },
    pool: { max: poolMax, min: 0, acquire: 10_000, idle: 10_000, evict: 5_000 },
    // No statement-level retry: inside a transaction a deadlock has already rolled the whole
    // transaction back, so the retry lives in Database.transaction and re-runs all of it.
    retry: { max: 1 },
  });
}
