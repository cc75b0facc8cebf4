import type { Sequelize } from "sequelize";
import type { Migration } from "../migrate";
import { mysqlSearchText } from "./2026-11-24T00-00-notes-search";
import { isMariadb } from "./2026-12-04T00-00-tags-pins";

/**
 * MySQL/MariaDB: one FULLTEXT index on notes instead of two, so that the index's upkeep can end.
 *
 * `OPTIMIZE TABLE` (with innodb_optimize_fulltext_only ON) rewrites innodb_ft_num_word_optimize
 * words of every FULLTEXT index of the table per statement, each index keeping its own place, and
 * only empties the table's list of deleted document ids in a statement where every index has just
 * reached its end. Two indexes of different sizes reach their ends together only after the least
 * common multiple of their pass lengths: 35 statements for indexes of 5 and 7 (measured), and never
 * in practice for indexes of thousands of statements each, so search kept slowing down.
 *
 * The title-only index (`notes_search_title`) goes. Its words stay findable on their own in the
 * remaining index: `search_title` now glues `_` before the owner's bucket ("Red car" becomes
 * " _9f3a2Red _9f3a2car"), and `search_body` holds the title's words too, with the bare bucket, so
 * `+9f3a2re*` finds a word anywhere and `+_9f3a2re*` only in a title. A word of the text never
 * starts with `_` (the application splits words on it), so neither form matches the other's words.
 * The table is copied once (a stored column's expression changes).
 */

const BODY = "CONCAT(title, ' ', description, ' ', COALESCE(tags, ''))";
const TITLE_MARKER = "_";

async function mysqlUp(sequelize: Sequelize) {
  const mariadb = await isMariadb(sequelize);
  await sequelize.query(`ALTER TABLE notes
    DROP INDEX notes_search, DROP INDEX notes_search_title,
    MODIFY COLUMN search_title TEXT AS (${mysqlSearchText("title", mariadb, TITLE_MARKER)}) STORED,
    MODIFY COLUMN search_body MEDIUMTEXT AS (${mysqlSearchText(BODY, mariadb)}) STORED`);
  await sequelize.query("SET SESSION innodb_ft_enable_stopword = OFF");
  await sequelize.query("CREATE FULLTEXT INDEX notes_search ON notes (search_title, search_body)");
}

/** The 2026-12-04T00-00-tags-pins columns and both indexes. */
async function mysqlDown(sequelize: Sequelize) {
  const mariadb = await isMariadb(sequelize);
  await sequelize.query(`ALTER TABLE notes
    DROP INDEX notes_search,
    MODIFY COLUMN search_title TEXT AS (${mysqlSearchText("title", mariadb)}) STORED,
    MODIFY COLUMN search_body MEDIUMTEXT AS (${mysqlSearchText("CONCAT(description, ' ', COALESCE(tags, ''))", mariadb)}) STORED`);
  await sequelize.query("SET SESSION innodb_ft_enable_stopword = OFF");
  await sequelize.query("CREATE FULLTEXT INDEX notes_search ON notes (search_title, search_body)");
  await sequelize.query("CREATE FULLTEXT INDEX notes_search_title ON notes (search_title)");
}

export const searchOneIndex: Migration = {
  name: "2026-12-07T00-00-search-one-index",
  async up({ context: { sequelize, dialect } }) {
    if (dialect === "mysql") await mysqlUp(sequelize);
  },
  async down({ context: { sequelize, dialect } }) {
    if (dialect === "mysql") await mysqlDown(sequelize);
  },
};
