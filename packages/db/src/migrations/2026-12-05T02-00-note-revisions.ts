import { DataTypes } from "sequelize";
import type { Migration } from "../migrate";

/**
 * Revision history: the earlier states of a note's title and text, numbered per note, with where
 * each came from (an edit, a restore, an import); and on the note, its last revision's number and
 * time, so an edit decides whether to keep one without reading the history.
 */
export const noteRevisions: Migration = {
  name: "2026-12-05T02-00-note-revisions",
  async up({ context: { queryInterface, dialect, tableOptions } }) {
    await queryInterface.addColumn("notes", "last_revision", {
      type: DataTypes.INTEGER,
      allowNull: false,
      defaultValue: 0,
    });
    await queryInterface.addColumn("notes", "revised_at", { type: DataTypes.DATE(3), allowNull: true });
    await queryInterface.createTable(
      "note_revisions",
      {
        id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
        note_id: {
          type: DataTypes.STRING(36),
          allowNull: false,
          references: { model: "notes", key: "id" },
          onDelete: "CASCADE",
        },
        revision: { type: DataTypes.INTEGER, allowNull: false },
        title: { type: DataTypes.STRING(200), allowNull: false },
        description: { type: dialect === "sqlite" ? DataTypes.TEXT : DataTypes.TEXT("medium"), allowNull: false },
        bytes: { type: DataTypes.INTEGER, allowNull: false },
        source: { type: DataTypes.STRING(16), allowNull: false },
        created_at: { type: DataTypes.DATE(3), allowNull: false },
      },
      tableOptions,
    );
    await queryInterface.addIndex("note_revisions", ["note_id", "revision"], {
      name: "note_revisions_by_note",
      unique: true,
    });
    await queryInterface.addIndex("note_revisions", ["created_at"], { name: "note_revisions_by_age" });
  },
  async down({ context: { queryInterface, sequelize } }) {
    await queryInterface.dropTable("note_revisions");
    await sequelize.query("ALTER TABLE notes DROP COLUMN revised_at");
    await sequelize.query("ALTER TABLE notes DROP COLUMN last_revision");
  },
};
