import { DataTypes, QueryTypes } from "sequelize";
import type { Migration } from "../migrate";
import { titleSortKey } from "../models/notes";

/**
 * Titles sort A to Z whatever their case and accents on every database: a folded copy of the
 * title (`title_key`, kept by the model) replaces the title in the sorting index. SQLite would
 * otherwise compare code points ("Zebra" before "apple", "Éclair" after "zebra").
 */
export const notesTitleKey: Migration = {
  name: "2026-11-23T05-00-notes-title-key",
  async up({ context: { queryInterface, sequelize } }) {
    await queryInterface.addColumn("notes", "title_key", { type: DataTypes.STRING(255), allowNull: true });
    // Existing notes, a batch at a time in id order.
    let after = "";
    for (;;) {
      const rows = await sequelize.query<{ id: string; title: string }>(
        "SELECT id, title FROM notes WHERE id > ? ORDER BY id LIMIT 1000",
        { replacements: [after], type: QueryTypes.SELECT },
      );
      if (rows.length === 0) break;
      await sequelize.transaction(async (transaction) => {
        for (const row of rows) {
          await sequelize.query("UPDATE notes SET title_key = ? WHERE id = ?", {
            replacements: [titleSortKey(row.title), row.id],
            transaction,
          });
        }
      });
      after = rows[rows.length - 1]!.id;
    }
    await queryInterface.removeIndex("notes", "notes_by_title");
    await queryInterface.addIndex("notes", ["owner_id", "deleted_at", "title_key", "id"], { name: "notes_by_title" });
  },
  async down({ context: { queryInterface, sequelize } }) {
    await queryInterface.removeIndex("notes", "notes_by_title");
    await queryInterface.addIndex("notes", ["owner_id", "deleted_at", "title", "id"], { name: "notes_by_title" });
    // Plain DROP COLUMN: on SQLite, removeColumn rebuilds the table and loses its triggers and indexes.
    await sequelize.query("ALTER TABLE notes DROP COLUMN title_key");
  },
};
