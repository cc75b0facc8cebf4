import { Transaction, type Sequelize } from "sequelize";
import { createSequelize, dialectOf, type ConnectionOptions, type Dialect } from "./connection";
import { defineAccountModels } from "./models/accounts";
import { defineNoteModels } from "./models/notes";
import { defineFileModels } from "./models/files";
import { defineAdminModels } from "./models/admin";
import { defineLegacyModels } from "./models/legacy";
import { migrate } from "./migrate";

export type { Dialect } from "./connection";
export type {
  EmailCodePurpose,
  EmailCodeRow,
  PasswordResetTokenRow,
  Role,
  SessionRow,
  UserRow,
} from "./models/accounts";
export { ownerKeyOf, type NoteRow } from "./models/notes";
export { USERNAME_KEY_MAX, usernameKey } from "./username-key";
export type { FileRow } from "./models/files";
export type { ApiKeyRow, AuditEventRow } from "./models/admin";
export type { LegacyImportKind, LegacyImportRow } from "./models/legacy";
export { createMigrator, migrate, migrations } from "./migrate";
export {
  LegacySourceError,
  openLegacySource,
  parseLegacyUrl,
  type LegacyFile,
  type LegacyNote,
  type LegacySource,
  type LegacyUser,
} from "./legacy-source";
export { isDatabaseUnavailable } from "./errors";
export { v7 as newId } from "uuid";
export { col, fn, literal, Op, QueryTypes, Sequelize, Transaction, UniqueConstraintError, type Model, type ModelStatic, type WhereOptions } from "sequelize";

function defineModels(sequelize: Sequelize) {
  return {
    ...defineAccountModels(sequelize),
    ...defineNoteModels(sequelize),
    ...defineFileModels(sequelize),
    ...defineAdminModels(sequelize),
    ...defineLegacyModels(sequelize),
  };
}

export type Models = ReturnType<typeof defineModels>;

/** A transaction the database chose to abort so another could proceed: safe to run again whole. */
function isDeadlock(error: unknown): boolean {
  const text = `${(error as { parent?: { code?: string } }).parent?.code ?? ""} ${(error as Error).message ?? ""}`;
  return /ER_LOCK_DEADLOCK|Deadlock found|SQLITE_BUSY/.test(text);
}

export interface Database {
  sequelize: Sequelize;
  models: Models;
  dialect: Dialect;
  /**
   * Runs `work` in one transaction. On SQLite the transaction takes the write lock at BEGIN
   * (IMMEDIATE) so a read-then-write flow cannot interleave with another writer; on MySQL the
   * flow locks the rows it checks with `lock: t.LOCK.UPDATE`.
   */
  transaction<T>(work: (t: Transaction) => Promise<T>): Promise<T>;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export async function openDatabase(
  options: ConnectionOptions & { migrate?: boolean },
): Promise<Database> {
  const sequelize = createSequelize(options);
  // SQLite has one writer at a time, and a transaction waiting for the lock waits inside a libuv
  // worker thread (the busy timeout). Under a flood, enough waiters take every worker, the
  // transaction holding the lock cannot run its next statement, and all stall until the timeout.
  // So this process queues its own write transactions and lets only one at a time ask for the lock.
  let lastWriter: Promise<unknown> = Promise.resolve();
  const oneWriterAtATime = <T>(run: () => Promise<T>): Promise<T> => {
    const turn = lastWriter.then(run, run);
    lastWriter = turn.catch(() => undefined);
    return turn;
  };
  const dialect = dialectOf(options.url);
  const models = defineModels(sequelize);
  await sequelize.authenticate();
  if (options.migrate ?? true) await migrate(sequelize);
  return {
    sequelize,
    models,
    dialect,
    transaction: async (work) => {
      for (let attempt = 1; ; attempt++) {
        try {
          if (dialect !== "sqlite") return await sequelize.transaction(work);
          return await oneWriterAtATime(() => sequelize.transaction({ type: Transaction.TYPES.IMMEDIATE }, work));
        } catch (error) {
          if (attempt >= 3 || !isDeadlock(error)) throw error;
          await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 30));
        }
      }
    },
    ping: async () => {
      try {
        await sequelize.query("SELECT 1");
        return true;
      } catch {
        return false;
      }
    },
    close: () => sequelize.close(),
  };
}
