import { DataTypes, QueryTypes, type Sequelize } from "sequelize";
import type { Migration } from "../migrate";

/**
 * An administrator's delete hides and disables the account at once and removes its notes and
 * files in the background, in small batches; `deletion_started_at` marks an account on its way
 * out, so the deletion resumes after a restart and nothing shows it meanwhile.
 *
 * On SQLite, FTS5's `deletemerge` (merge a segment at once when 10% of it is deleted) made some of
 * those batches, and whichever save came next, take 250-600 ms: with it off, deleted entries go in
 * the ordinary incremental merges and no batch of 1,000 notes took over 45 ms.
 */
export const accountDeletion: Migration = {
  name: "2026-12-03T00-00-account-deletion",
  async up({ context: { queryInterface, sequelize, dialect } }) {
    await queryInterface.addColumn("users", "deletion_started_at", { type: DataTypes.DATE, allowNull: true });
    if (dialect === "sqlite" && (await contentlessDelete(sequelize))) {
      await sequelize.query("INSERT INTO notes_fts(notes_fts, rank) VALUES('deletemerge', 0)");
    }
  },
  async down({ context: { sequelize, dialect } }) {
    if (dialect === "sqlite" && (await contentlessDelete(sequelize))) {
      await sequelize.query("INSERT INTO notes_fts(notes_fts, rank) VALUES('deletemerge', 10)");
    }
    // Plain DROP COLUMN: on SQLite, removeColumn rebuilds the table and loses its indexes.
    await sequelize.query("ALTER TABLE users DROP COLUMN deletion_started_at");
  },
};

/** Whether notes_fts is the kind with `deletemerge` (built where SQLite had contentless_delete). */
async function contentlessDelete(sequelize: Sequelize): Promise<boolean> {
  const [table] = await sequelize.query<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'notes_fts'", {
    type: QueryTypes.SELECT,
  });
  return table?.sql.includes("contentless_delete") ?? false;
}
