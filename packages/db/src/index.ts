import { Transaction, type Sequelize } from "sequelize";
import { createSequelize, dialectOf, sqliteStorage, type ConnectionOptions, type Dialect } from "./connection";
import { defineAccountModels } from "./models/accounts";
import { defineNoteModels } from "./models/notes";
import { defineTagModels } from "./models/tags";
import { defineFileModels } from "./models/files";
import { defineAdminModels } from "./models/admin";
import { defineLegacyModels } from "./models/legacy";
import { defineSignInModels } from "./models/sign-in";
import { migrate } from "./migrate";
import { HotReader } from "./sqlite/hot-reader";

export type { Dialect } from "./connection";
export type {
  EmailCodePurpose,
  EmailCodeRow,
  PasswordResetTokenRow,
  RecoveryCodeRow,
  Role,
  SessionRow,
  SignInChallengeRow,
  UserRow,
} from "./models/accounts";
export {
  insertNote,
  tagNamesOf,
  updateNoteRow,
  type NoteEdit,
  type NoteRevisionRow,
  type NoteRow,
  type RevisionSource,
} from "./models/notes";
export type { NoteTagRow, TagRow } from "./models/tags";
export type { PasskeyChallengePurpose, PasskeyChallengeRow, PasskeyRow, SsoIdentityRow } from "./models/sign-in";
export { hasOpenTask, markdownText, noteExcerpt } from "./note-text";
export { foldedWords, foldText, isAscii, tagKey, termsStartingWords } from "./fold";
export { LIKE_ESCAPE, likePattern, searchNoteRows, type NoteFilter, type NoteSearch, type SearchRow } from "./search";
export { optimizeSearchIndex, type SearchUpkeep } from "./search/upkeep";
export { USERNAME_KEY_MAX, usernameKey } from "./username-key";
export {
  BULK_NOTES_MAX,
  FILE_NAME_INPUT_MAX,
  FILE_NAME_MAX_BYTES,
  NOTE_EXCERPT_LENGTH,
  NOTE_TEXT_MAX_BYTES,
  NOTE_TITLE_MAX,
  TAG_NAME_MAX,
  TAGS_PER_NOTE_MAX,
  utf8Bytes,
} from "./sizes";
export type { FileRow } from "./models/files";
export type { ApiKeyRow, AuditEventRow, InviteRow, SettingRow } from "./models/admin";
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
export {
  rowDate,
  rowDateOrNull,
  rowIso,
  runStatement,
  selectBounded,
  selectRows,
  type RowParam,
  type RowSource,
} from "./rows";
export { v7 as newId } from "uuid";
export {
  col,
  fn,
  literal,
  Op,
  QueryTypes,
  Sequelize,
  Transaction,
  UniqueConstraintError,
  type Model,
  type ModelStatic,
  type WhereOptions,
} from "sequelize";

function defineModels(sequelize: Sequelize) {
  return {
    ...defineAccountModels(sequelize),
    ...defineSignInModels(sequelize),
    ...defineNoteModels(sequelize),
    ...defineTagModels(sequelize),
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
  /** SQLite on a file: the main thread's read-only connection for the hot paths' bounded reads (rows.ts). */
  hotReader: HotReader | null;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export async function openDatabase(options: ConnectionOptions & { migrate?: boolean }): Promise<Database> {
  const sequelize = createSequelize(options);
  const dialect = dialectOf(options.url);
  const models = defineModels(sequelize);
  await sequelize.authenticate();
  if (options.migrate ?? true) await migrate(sequelize);
  const storage = dialect === "sqlite" ? sqliteStorage(options.url) : "";
  const hotReader = dialect === "sqlite" && storage !== "" && storage !== ":memory:" ? new HotReader(storage) : null;
  return {
    sequelize,
    models,
    dialect,
    hotReader,
    transaction: async (work) => {
      for (let attempt = 1; ; attempt++) {
        try {
          if (dialect !== "sqlite") return await sequelize.transaction(work);
          // The SQLite driver runs one write transaction at a time (sqlite/driver.ts).
          return await sequelize.transaction({ type: Transaction.TYPES.IMMEDIATE }, work);
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
    close: async () => {
      hotReader?.close();
      await sequelize.close();
    },
  };
}
