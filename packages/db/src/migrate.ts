import type { QueryInterface, Sequelize } from "sequelize";
import { SequelizeStorage, Umzug, type MigrationParams } from "umzug";
import { accounts } from "./migrations/2026-11-23T00-00-accounts";
import { notes } from "./migrations/2026-11-23T01-00-notes";
import { files } from "./migrations/2026-11-23T02-00-files";
import { admin } from "./migrations/2026-11-23T03-00-admin";
import { legacyImports } from "./migrations/2026-11-23T04-00-legacy-imports";
import { notesTitleKey } from "./migrations/2026-11-23T05-00-notes-title-key";
import { notesSearch } from "./migrations/2026-11-24T00-00-notes-search";
import { signUpAttempts } from "./migrations/2026-12-02T00-00-sign-up-attempts";
import { usernameKeys } from "./migrations/2026-12-02T01-00-username-keys";
import { accountDeletion } from "./migrations/2026-12-03T00-00-account-deletion";
import { tagsAndPins } from "./migrations/2026-12-04T00-00-tags-pins";
import { twoFactor } from "./migrations/2026-12-04T01-00-two-factor";
import { settingsInvites } from "./migrations/2026-12-04T02-00-settings-invites";
import { passkeysSso } from "./migrations/2026-12-05T00-00-passkeys-sso";
import { notesOpenTasks } from "./migrations/2026-12-05T01-00-notes-open-tasks";
import { noteRevisions } from "./migrations/2026-12-05T02-00-note-revisions";
import { fileTrashAttachments } from "./migrations/2026-12-05T03-00-file-trash-attachments";
import { searchPrefixes } from "./migrations/2026-12-06T00-00-search-prefixes";
import { searchOneIndex } from "./migrations/2026-12-07T00-00-search-one-index";

export interface MigrationContext {
  queryInterface: QueryInterface;
  sequelize: Sequelize;
  dialect: "sqlite" | "mysql";
  /** utf8mb4 InnoDB tables on MySQL/MariaDB; nothing on SQLite. */
  tableOptions: { charset?: string; collate?: string; engine?: string };
}

export interface Migration {
  name: string;
  up(params: MigrationParams<MigrationContext>): Promise<void>;
  down(params: MigrationParams<MigrationContext>): Promise<void>;
}

/** In order. Listed, not globbed, so the bundled server carries them. */
export const migrations: Migration[] = [
  accounts,
  notes,
  files,
  admin,
  legacyImports,
  notesTitleKey,
  notesSearch,
  signUpAttempts,
  usernameKeys,
  accountDeletion,
  tagsAndPins,
  twoFactor,
  settingsInvites,
  passkeysSso,
  notesOpenTasks,
  noteRevisions,
  fileTrashAttachments,
  searchPrefixes,
  searchOneIndex,
];

export function createMigrator(sequelize: Sequelize, log?: (message: string) => void) {
  const dialect = sequelize.getDialect() === "sqlite" ? "sqlite" : "mysql";
  return new Umzug<MigrationContext>({
    migrations,
    context: {
      queryInterface: sequelize.getQueryInterface(),
      sequelize,
      dialect,
      tableOptions: dialect === "mysql" ? { charset: "utf8mb4", collate: "utf8mb4_unicode_ci", engine: "InnoDB" } : {},
    },
    storage: new SequelizeStorage({ sequelize, tableName: "schema_migrations" }),
    logger: log
      ? {
          info: (m) => log(JSON.stringify(m)),
          warn: (m) => log(JSON.stringify(m)),
          error: (m) => log(JSON.stringify(m)),
          debug: () => {},
        }
      : undefined,
  });
}

/**
 * Applies pending migrations. On MySQL/MariaDB a named lock, held by a connection pinned for the
 * duration, makes instances that start together migrate one after another instead of racing.
 */
export async function migrate(sequelize: Sequelize, log?: (message: string) => void): Promise<string[]> {
  const run = async () => (await createMigrator(sequelize, log).up()).map((m) => m.name);
  if (sequelize.getDialect() === "sqlite") return run();
  return sequelize.transaction(async (transaction) => {
    const [[row]] = (await sequelize.query("SELECT GET_LOCK('notebox_migrations', 300) AS locked", {
      transaction,
    })) as [{ locked: number | null }[], unknown];
    if (row?.locked !== 1) throw new Error("could not take the migration lock within 5 minutes");
    try {
      return await run();
    } finally {
      await sequelize.query("SELECT RELEASE_LOCK('notebox_migrations')", { transaction });
    }
  });
}
