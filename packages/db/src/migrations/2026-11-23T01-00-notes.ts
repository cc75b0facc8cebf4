import { DataTypes } from "sequelize";
import type { Migration } from "../migrate";

const date = (allowNull = false) => ({ type: DataTypes.DATE(3), allowNull });

/**
 * Notes and their full-text index: SQLite FTS5 kept in step by triggers, or InnoDB FULLTEXT on
 * MySQL/MariaDB. Both index the owner token with the text (see NoteRow.ownerKey).
 */
export const notes: Migration = {
  name: "2026-11-23T01-00-notes",
  async up({ context: { queryInterface, sequelize, dialect, tableOptions } }) {
    await queryInterface.createTable(
      "notes",
      {
        id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
        owner_id: {
          type: DataTypes.STRING(36),
          allowNull: false,
          references: { model: "users", key: "id" },
          onDelete: "CASCADE",
        },
        owner_key: { type: DataTypes.STRING(33), allowNull: false },
        title: { type: DataTypes.STRING(200), allowNull: false },
        description: { type: dialect === "sqlite" ? DataTypes.TEXT : DataTypes.TEXT("medium"), allowNull: false },
        version: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 },
        created_at: date(),
        updated_at: date(),
        deleted_at: date(true),
      },
      tableOptions,
    );
    // One index per list order, each led by the owner and the trash state the list filters on.
    await queryInterface.addIndex("notes", ["owner_id", "deleted_at", "updated_at", "id"], {
      name: "notes_by_updated",
    });
    await queryInterface.addIndex("notes", ["owner_id", "deleted_at", "created_at", "id"], {
      name: "notes_by_created",
    });
    await queryInterface.addIndex("notes", ["owner_id", "deleted_at", "title", "id"], { name: "notes_by_title" });
    await queryInterface.addIndex("notes", ["deleted_at"], { name: "notes_trash_age" });

    if (dialect === "sqlite") {
      await sequelize.query(`CREATE VIRTUAL TABLE notes_fts USING fts5(
        owner_key, title, description,
        content='notes', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3'
      )`);
      await sequelize.query(`CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes BEGIN
        INSERT INTO notes_fts(rowid, owner_key, title, description) VALUES (new.rowid, new.owner_key, new.title, new.description);
      END`);
      await sequelize.query(`CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes BEGIN
        INSERT INTO notes_fts(notes_fts, rowid, owner_key, title, description) VALUES ('delete', old.rowid, old.owner_key, old.title, old.description);
      END`);
      await sequelize.query(`CREATE TRIGGER notes_fts_update AFTER UPDATE OF owner_key, title, description ON notes BEGIN
        INSERT INTO notes_fts(notes_fts, rowid, owner_key, title, description) VALUES ('delete', old.rowid, old.owner_key, old.title, old.description);
        INSERT INTO notes_fts(rowid, owner_key, title, description) VALUES (new.rowid, new.owner_key, new.title, new.description);
      END`);
    } else {
      // Stopwords would make "the" or "about" find nothing; the setting applies to indexes created
      // in this session.
      await sequelize.query("SET SESSION innodb_ft_enable_stopword = OFF");
      await sequelize.query("CREATE FULLTEXT INDEX notes_fulltext ON notes (owner_key, title, description)");
      await sequelize.query("CREATE FULLTEXT INDEX notes_title_fulltext ON notes (title)");
    }
  },
  async down({ context: { queryInterface, sequelize, dialect } }) {
    if (dialect === "sqlite") {
      for (const trigger of ["notes_fts_insert", "notes_fts_delete", "notes_fts_update"]) {
        await sequelize.query(`DROP TRIGGER IF EXISTS ${trigger}`);
      }
      await sequelize.query("DROP TABLE IF EXISTS notes_fts");
    }
    await queryInterface.dropTable("notes");
  },
};
