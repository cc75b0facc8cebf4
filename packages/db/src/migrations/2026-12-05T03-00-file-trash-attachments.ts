import { DataTypes } from "sequelize";
import type { Migration } from "../migrate";

/**
 * A trash for files (`deleted_at`, as for notes) and files inside notes (`note_id`): a file
 * belongs to at most one of its owner's notes. No foreign key: purging a note removes its files'
 * rows and their bytes together (core files/attachments.ts), which a cascade could not do.
 */
export const fileTrashAttachments: Migration = {
  name: "2026-12-05T03-00-file-trash-attachments",
  async up({ context: { queryInterface } }) {
    await queryInterface.addColumn("files", "deleted_at", { type: DataTypes.DATE(3), allowNull: true });
    await queryInterface.addColumn("files", "note_id", { type: DataTypes.STRING(36), allowNull: true });
    // The list (deleted_at IS NULL) and the trash of one owner, newest first.
    await queryInterface.addIndex("files", ["owner_id", "deleted_at", "created_at", "id"], { name: "files_by_state" });
    await queryInterface.addIndex("files", ["note_id", "deleted_at"], { name: "files_by_note" });
    // The scheduled purge of files trashed more than 30 days ago, across owners.
    await queryInterface.addIndex("files", ["deleted_at"], { name: "files_by_deleted" });
  },
  async down({ context: { queryInterface, sequelize } }) {
    await queryInterface.removeIndex("files", "files_by_deleted");
    await queryInterface.removeIndex("files", "files_by_note");
    await queryInterface.removeIndex("files", "files_by_state");
    // Plain DROP COLUMN: on SQLite, removeColumn rebuilds the table and loses its indexes.
    await sequelize.query("ALTER TABLE files DROP COLUMN note_id");
    await sequelize.query("ALTER TABLE files DROP COLUMN deleted_at");
  },
};
