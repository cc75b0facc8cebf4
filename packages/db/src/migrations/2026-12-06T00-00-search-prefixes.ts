import type { Migration } from "../migrate";
import { sqliteSearchWithTags } from "./2026-12-04T00-00-tags-pins";

/**
 * SQLite: prefix indexes for 7 and 8 letters too. FTS5 answers a prefix longer than its longest
 * prefix index by merging the doclists of every word it starts across the whole table, so a
 * common word typed to 7 or 8 letters ("meeting", "projects") cost a few milliseconds at 1,000,000
 * notes, growing with the table rather than with one person's notes; with the index it is a seek
 * within the owner's rowid range, as for shorter prefixes. The index grows by about 15% and
 * indexing a note costs about 10% more. MySQL/MariaDB: nothing (their words carry the owner's bucket).
 */
export const searchPrefixes: Migration = {
  name: "2026-12-06T00-00-search-prefixes",
  async up({ context: { sequelize, dialect } }) {
    if (dialect === "sqlite") await sqliteSearchWithTags((sql) => sequelize.query(sql), "1 2 3 4 5 6 7 8");
  },
  async down({ context: { sequelize, dialect } }) {
    if (dialect === "sqlite") await sqliteSearchWithTags((sql) => sequelize.query(sql), "1 2 3 4 5 6");
  },
};
