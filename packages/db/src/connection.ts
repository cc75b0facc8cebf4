import { Sequelize, type Options } from "sequelize";

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

export function createSequelize({ url, log, poolMax = 10 }: ConnectionOptions): Sequelize {
  const common: Options = {
    logging: log ? (sql: string) => log(sql) : false,
    benchmark: false,
    define: { underscored: true },
  };
  if (dialectOf(url) === "sqlite") {
    const storage = url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    const sequelize = new Sequelize({
      ...common,
      dialect: "sqlite",
      storage,
      retry: { max: 10, match: [/SQLITE_BUSY/] },
    });
    prepareSqliteConnections(sequelize);
    return sequelize;
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

interface SqliteHandle {
  configure(option: "busyTimeout", ms: number): void;
  exec(sql: string, cb: (err: Error | null) => void): void;
}

/**
 * Sequelize opens one SQLite connection per transaction and runs no hook when it does, so its
 * connection manager is wrapped to set each new connection up: wait for the writer lock instead
 * of failing with SQLITE_BUSY, and use WAL with NORMAL sync (readers proceed beside one writer;
 * commits survive a crash of the process, and of the machine up to the last checkpoint).
 */
function prepareSqliteConnections(sequelize: Sequelize): void {
  const manager = sequelize.connectionManager as unknown as {
    getConnection(options: unknown): Promise<SqliteHandle>;
  };
  const getConnection = manager.getConnection.bind(manager);
  const prepared = new WeakSet<SqliteHandle>();
  manager.getConnection = async (options) => {
    const connection = await getConnection(options);
    if (!prepared.has(connection)) {
      prepared.add(connection);
      connection.configure("busyTimeout", 10_000);
      await new Promise<void>((resolve, reject) =>
        connection.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;", (err) =>
          err ? reject(err) : resolve(),
        ),
      );
    }
    return connection;
  };
}
