import type { Migration } from "../migrate";

/**
 * Search that only ever touches the owner's part of the full-text index, so its cost follows the
 * size of one person's notes, not the whole table. Trashed notes leave the index.
 *
 * SQLite: a contentless FTS5 table whose rowid is (owner bucket << 36) | notes.rowid, where the
 * bucket is 25 bits taken from the last five characters of the owner id. One person's notes are
 * then one rowid range, which FTS5 seeks to inside every doclist. `detail=column` (no positions:
 * highlighting is done in code) keeps doclists small, and prefix indexes for 1 to 6 letters keep
 * as-you-type prefixes off the slow path that merges every matching term of the whole table
 * (a longer prefix matches few words).
 *
 * MySQL/MariaDB: InnoDB reads a term's whole posting list, and the SQL layer fetches the row of
 * every match. The stored columns `search_title` and `search_body` therefore repeat the text with
 * every word glued to the owner's bucket (the last five characters of the owner id): "Red car"
 * becomes " 9f3a2Red 9f3a2car". A prefix query `+9f3a2re*` reads only that owner's words. The same
 * rewrite splits words the way the application does (letters, digits and combining marks; `_` is a
 * separator), indexes one- and two-letter words (every token is now longer than
 * innodb_ft_min_token_size) and lets `LIKE '% 9f3a2re%'` test a word start on a row already read.
 *
 * search.ts computes the same bucket; the expressions are repeated there on purpose, as a
 * migration is a snapshot and must not follow later code.
 */

/** 25 bits from the last five characters of an owner id (SQLite expression). */
function sqliteBucket(ownerId: string) {
  return [1, 2, 3, 4, 5].map((i) => `((unicode(substr(${ownerId}, -${i}, 1)) & 31) << ${(i - 1) * 5})`).join(" | ");
}
/** The FTS rowid of a note row: its owner's bucket above the note's own rowid. */
export const sqliteKey = (row: string) => `((${sqliteBucket(`${row}.owner_id`)}) << 36) | ${row}.rowid`;

const TRIGGERS = ["notes_fts_insert", "notes_fts_delete", "notes_fts_update"];

export async function sqliteUp(query: (sql: string) => Promise<unknown>) {
  for (const trigger of TRIGGERS) await query(`DROP TRIGGER IF EXISTS ${trigger}`);
  await query("DROP TABLE IF EXISTS notes_fts");
  await query(`CREATE VIRTUAL TABLE notes_fts USING fts5(
    title, description,
    content='', contentless_delete=1, detail=column,
    tokenize='unicode61 remove_diacritics 2', prefix='1 2 3 4 5 6'
  )`);
  await query(`INSERT INTO notes_fts(rowid, title, description)
    SELECT ${sqliteKey("n")}, n.title, n.description FROM notes n WHERE n.deleted_at IS NULL ORDER BY 1`);
  await query(`CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO notes_fts(rowid, title, description) VALUES (${sqliteKey("new")}, new.title, new.description);
  END`);
  await query(`CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes WHEN old.deleted_at IS NULL BEGIN
    DELETE FROM notes_fts WHERE rowid = ${sqliteKey("old")};
  END`);
  // Trashing removes the note from the index and restoring puts it back, like any other edit.
  await query(`CREATE TRIGGER notes_fts_update AFTER UPDATE OF owner_id, title, description, deleted_at ON notes BEGIN
    DELETE FROM notes_fts WHERE old.deleted_at IS NULL AND rowid = ${sqliteKey("old")};
    INSERT INTO notes_fts(rowid, title, description)
      SELECT ${sqliteKey("new")}, new.title, new.description WHERE new.deleted_at IS NULL;
  END`);
}

/** The 2026-11-23T01-00-notes index, for `down`. */
async function sqliteDown(query: (sql: string) => Promise<unknown>) {
  for (const trigger of TRIGGERS) await query(`DROP TRIGGER IF EXISTS ${trigger}`);
  await query("DROP TABLE IF EXISTS notes_fts");
  await query(`CREATE VIRTUAL TABLE notes_fts USING fts5(
    owner_key, title, description,
    content='notes', content_rowid='rowid',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3'
  )`);
  await query("INSERT INTO notes_fts(notes_fts) VALUES ('rebuild')");
  await query(`CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes BEGIN
    INSERT INTO notes_fts(rowid, owner_key, title, description) VALUES (new.rowid, new.owner_key, new.title, new.description);
  END`);
  await query(`CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes BEGIN
    INSERT INTO notes_fts(notes_fts, rowid, owner_key, title, description) VALUES ('delete', old.rowid, old.owner_key, old.title, old.description);
  END`);
  await query(`CREATE TRIGGER notes_fts_update AFTER UPDATE OF owner_key, title, description ON notes BEGIN
    INSERT INTO notes_fts(notes_fts, rowid, owner_key, title, description) VALUES ('delete', old.rowid, old.owner_key, old.title, old.description);
    INSERT INTO notes_fts(rowid, owner_key, title, description) VALUES (new.rowid, new.owner_key, new.title, new.description);
  END`);
}

/**
 * Each word of `column` preceded by a space, `marker` and the owner's bucket; empty while the note
 * is in the trash. MariaDB's regular expressions are PCRE (`\1`), MySQL 8's are ICU (`$1`).
 * (`marker`: see 2026-12-07T00-00-search-one-index.)
 */
export function mysqlSearchText(column: string, mariadb: boolean, marker = "") {
  // As SQL string literals: the pattern is [^\p{L}\p{N}\p{M}]*([\p{L}\p{N}\p{M}]+).
  const separatorsThenWord = "[^\\\\p{L}\\\\p{N}\\\\p{M}]*([\\\\p{L}\\\\p{N}\\\\p{M}]+)";
  const word = mariadb ? "\\\\1" : "$1";
  return `IF(deleted_at IS NULL, REGEXP_REPLACE(${column}, '${separatorsThenWord}', CONCAT(' ${marker}', RIGHT(owner_id, 5), '${word}')), '')`;
}

export const notesSearch: Migration = {
  name: "2026-11-24T00-00-notes-search",
  async up({ context: { sequelize, dialect } }) {
    const query = (sql: string) => sequelize.query(sql);
    if (dialect === "sqlite") return sqliteUp(query);
    const [[server]] = (await sequelize.query("SELECT VERSION() AS version")) as [{ version: string }[], unknown];
    const mariadb = /mariadb/i.test(server?.version ?? "");
    await query(`ALTER TABLE notes
      DROP INDEX notes_fulltext, DROP INDEX notes_title_fulltext,
      ADD COLUMN search_title TEXT AS (${mysqlSearchText("title", mariadb)}) STORED,
      ADD COLUMN search_body MEDIUMTEXT AS (${mysqlSearchText("description", mariadb)}) STORED`);
    // Stopwords do not matter once every word carries the bucket, but keep the index definition
    // independent of the server's stopword list.
    await query("SET SESSION innodb_ft_enable_stopword = OFF");
    // InnoDB builds one FULLTEXT index per statement.
    await query("CREATE FULLTEXT INDEX notes_search ON notes (search_title, search_body)");
    await query("CREATE FULLTEXT INDEX notes_search_title ON notes (search_title)");
  },
  async down({ context: { sequelize, dialect } }) {
    const query = (sql: string) => sequelize.query(sql);
    if (dialect === "sqlite") return sqliteDown(query);
    await query(
      "ALTER TABLE notes DROP INDEX notes_search, DROP INDEX notes_search_title, DROP COLUMN search_title, DROP COLUMN search_body",
    );
    await query("SET SESSION innodb_ft_enable_stopword = OFF");
    await query("CREATE FULLTEXT INDEX notes_fulltext ON notes (owner_key, title, description)");
    await query("CREATE FULLTEXT INDEX notes_title_fulltext ON notes (title)");
  },
};
