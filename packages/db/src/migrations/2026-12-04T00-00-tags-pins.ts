import { DataTypes, QueryTypes, type Sequelize } from "sequelize";
import type { Migration, MigrationContext } from "../migrate";
import { hasOpenTask, noteExcerpt } from "../note-text";
import { mysqlSearchText, sqliteKey, sqliteUp } from "./2026-11-24T00-00-notes-search";

/**
 * Tags, pins and plain-text excerpts.
 *
 * - `tags` (a person's tag names, unique by folded key) and `note_tags` (which notes carry which);
 *   `notes.tags` repeats a note's names as JSON so lists need no join and search indexes them.
 * - `notes.pinned`: pinned notes come first in every list, so each list order's index now leads
 *   with the owner, the trash state and the pin (`notes_by_updated` stays as it was: search walks it).
 * - `notes.excerpt` and `notes.open_tasks`, derived from the text when it is written (the model's
 *   hooks); existing notes get theirs here.
 * - `notes.owner_key`, unused since the 2026-11-24 search index, is dropped.
 * - The search index takes the tags: SQLite's notes_fts gets a `tags` column; on MySQL/MariaDB the
 *   tags join the text in `search_body`.
 */

const TRIGGERS = ["notes_fts_insert", "notes_fts_delete", "notes_fts_update"];

/**
 * notes_fts rebuilt with the tags column and prefix indexes for the given lengths, its triggers
 * with it (also used by 2026-12-06T00-00-search-prefixes, with longer prefixes).
 */
export async function sqliteSearchWithTags(query: (sql: string) => Promise<unknown>, prefixes: string) {
  for (const trigger of TRIGGERS) await query(`DROP TRIGGER IF EXISTS ${trigger}`);
  await query("DROP TABLE IF EXISTS notes_fts");
  await query(`CREATE VIRTUAL TABLE notes_fts USING fts5(
    title, description, tags,
    content='', contentless_delete=1, detail=column,
    tokenize='unicode61 remove_diacritics 2', prefix='${prefixes}'
  )`);
  await query("INSERT INTO notes_fts(notes_fts, rank) VALUES('deletemerge', 0)");
  await query(`INSERT INTO notes_fts(rowid, title, description, tags)
    SELECT ${sqliteKey("n")}, n.title, n.description, n.tags FROM notes n WHERE n.deleted_at IS NULL ORDER BY 1`);
  await query(`CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO notes_fts(rowid, title, description, tags) VALUES (${sqliteKey("new")}, new.title, new.description, new.tags);
  END`);
  await query(`CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes WHEN old.deleted_at IS NULL BEGIN
    DELETE FROM notes_fts WHERE rowid = ${sqliteKey("old")};
  END`);
  await query(`CREATE TRIGGER notes_fts_update AFTER UPDATE OF owner_id, title, description, tags, deleted_at ON notes BEGIN
    DELETE FROM notes_fts WHERE old.deleted_at IS NULL AND rowid = ${sqliteKey("old")};
    INSERT INTO notes_fts(rowid, title, description, tags)
      SELECT ${sqliteKey("new")}, new.title, new.description, new.tags WHERE new.deleted_at IS NULL;
  END`);
}

export async function isMariadb(sequelize: Sequelize): Promise<boolean> {
  const [server] = await sequelize.query<{ version: string }>("SELECT VERSION() AS version", {
    type: QueryTypes.SELECT,
  });
  return /mariadb/i.test(server?.version ?? "");
}

/** search_body rebuilt from `source`, with its full-text index. */
async function mysqlSearchBody(sequelize: Sequelize, source: string) {
  const mariadb = await isMariadb(sequelize);
  await sequelize.query("ALTER TABLE notes DROP INDEX notes_search, DROP COLUMN search_body");
  await sequelize.query(
    `ALTER TABLE notes ADD COLUMN search_body MEDIUMTEXT AS (${mysqlSearchText(source, mariadb)}) STORED`,
  );
  await sequelize.query("SET SESSION innodb_ft_enable_stopword = OFF");
  await sequelize.query("CREATE FULLTEXT INDEX notes_search ON notes (search_title, search_body)");
}

/** Excerpts and open tasks for notes written before this migration, a batch at a time. */
async function fillDerived(sequelize: Sequelize) {
  let after = "";
  for (;;) {
    const rows = await sequelize.query<{ id: string; description: string }>(
      "SELECT id, description FROM notes WHERE id > :after ORDER BY id LIMIT 500",
      { replacements: { after }, type: QueryTypes.SELECT },
    );
    if (rows.length === 0) return;
    await sequelize.transaction(async (transaction) => {
      for (const row of rows) {
        await sequelize.query("UPDATE notes SET excerpt = :excerpt, open_tasks = :openTasks WHERE id = :id", {
          replacements: { id: row.id, excerpt: noteExcerpt(row.description), openTasks: hasOpenTask(row.description) },
          transaction,
        });
      }
    });
    after = rows[rows.length - 1]!.id;
  }
}

const LIST_INDEXES = [
  ["notes_by_created", "created_at"],
  ["notes_by_title", "title_key"],
] as const;

async function up({ queryInterface, sequelize, dialect, tableOptions }: MigrationContext) {
  const owner = {
    type: DataTypes.STRING(36),
    allowNull: false,
    references: { model: "users", key: "id" },
    onDelete: "CASCADE",
  };
  await queryInterface.createTable(
    "tags",
    {
      id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
      owner_id: owner,
      name: { type: DataTypes.STRING(40), allowNull: false },
      name_key: { type: DataTypes.STRING(120).BINARY, allowNull: false },
      created_at: { type: DataTypes.DATE(3), allowNull: false },
    },
    tableOptions,
  );
  await queryInterface.addIndex("tags", ["owner_id", "name_key"], { name: "tags_by_key", unique: true });
  await queryInterface.createTable(
    "note_tags",
    {
      note_id: {
        type: DataTypes.STRING(36),
        primaryKey: true,
        allowNull: false,
        references: { model: "notes", key: "id" },
        onDelete: "CASCADE",
      },
      tag_id: {
        type: DataTypes.STRING(36),
        primaryKey: true,
        allowNull: false,
        references: { model: "tags", key: "id" },
        onDelete: "CASCADE",
      },
      owner_id: owner,
    },
    tableOptions,
  );
  await queryInterface.addIndex("note_tags", ["tag_id", "note_id"], { name: "note_tags_by_tag" });
  await queryInterface.addIndex("note_tags", ["owner_id", "tag_id"], { name: "note_tags_by_owner" });

  await queryInterface.addColumn("notes", "excerpt", {
    type: DataTypes.STRING(255),
    allowNull: false,
    defaultValue: "",
  });
  await queryInterface.addColumn("notes", "open_tasks", {
    type: DataTypes.BOOLEAN,
    allowNull: false,
    defaultValue: false,
  });
  await queryInterface.addColumn("notes", "pinned", { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false });
  await queryInterface.addColumn("notes", "tags", { type: DataTypes.TEXT, allowNull: true });
  // Plain DROP COLUMN: on SQLite, removeColumn rebuilds the table and loses its indexes.
  await sequelize.query("ALTER TABLE notes DROP COLUMN owner_key");
  await fillDerived(sequelize);

  for (const [name, column] of LIST_INDEXES) {
    await queryInterface.removeIndex("notes", name);
    await queryInterface.addIndex("notes", ["owner_id", "deleted_at", "pinned", column, "id"], { name });
  }
  await queryInterface.addIndex("notes", ["owner_id", "deleted_at", "pinned", "updated_at", "id"], {
    name: "notes_by_pin_updated",
  });

  if (dialect === "sqlite") await sqliteSearchWithTags((sql) => sequelize.query(sql), "1 2 3 4 5 6");
  else await mysqlSearchBody(sequelize, "CONCAT(description, ' ', COALESCE(tags, ''))");
}

async function down({ queryInterface, sequelize, dialect }: MigrationContext) {
  if (dialect === "sqlite") await sqliteUp((sql) => sequelize.query(sql));
  else await mysqlSearchBody(sequelize, "description");

  await queryInterface.removeIndex("notes", "notes_by_pin_updated");
  for (const [name, column] of LIST_INDEXES) {
    await queryInterface.removeIndex("notes", name);
    await queryInterface.addIndex("notes", ["owner_id", "deleted_at", column, "id"], { name });
  }
  await queryInterface.addColumn("notes", "owner_key", { type: DataTypes.STRING(33), allowNull: true });
  await sequelize.query(
    dialect === "sqlite"
      ? "UPDATE notes SET owner_key = 'u' || replace(owner_id, '-', '')"
      : "UPDATE notes SET owner_key = CONCAT('u', REPLACE(owner_id, '-', ''))",
  );
  for (const column of ["tags", "pinned", "open_tasks", "excerpt"]) {
    await sequelize.query(`ALTER TABLE notes DROP COLUMN ${column}`);
  }
  await queryInterface.dropTable("note_tags");
  await queryInterface.dropTable("tags");
}

export const tagsAndPins: Migration = {
  name: "2026-12-04T00-00-tags-pins",
  up: ({ context }) => up(context),
  down: ({ context }) => down(context),
};
