// SQLite FTS5 search, on the index of the 2026-11-24T00-00-notes-search migration (with the tags
// column of 2026-12-04T00-00-tags-pins).
import { QueryTypes } from "sequelize";
import { filterSql, SEARCH_ROW_COLUMNS, type NoteSearch, type SearchContext, type SearchRow } from "./index";

/**
 * The owner's bucket as the migration computes it: 5 bits from each of the owner id's last five
 * characters. A note's FTS rowid is (bucket << 36) | its rowid in `notes`.
 */
function sqliteBucket(ownerId: string): number {
  let bucket = 0;
  for (let i = 1; i <= 5; i++) bucket |= ((ownerId.codePointAt(ownerId.length - i) ?? 0) & 31) << ((i - 1) * 5);
  return bucket;
}
const NOTE_ROWID_MASK = "68719476735"; // 2^36 - 1

/**
 * Every term as a quoted prefix (nothing typed is FTS5 syntax), within the owner's rowid range so
 * FTS5 reads only that part of each doclist. The owner's notes are then walked in the covering
 * `notes_by_updated` index (no table row read unless a filter needs one) and kept when in the
 * match set; the tier counts the terms found in the title, one title-only match per term. Only
 * the page's rows are read.
 */
export async function searchSqlite(db: SearchContext, search: NoteSearch): Promise<SearchRow[]> {
  const { terms } = search;
  const inColumn = search.inTitle ? "title : " : "";
  const replacements: Record<string, unknown> = {
    all: terms.map((t) => `${inColumn}"${t}"*`).join(" AND "),
    bucket: sqliteBucket(search.ownerId),
    ownerId: search.ownerId,
    limit: search.limit,
    offset: search.offset,
  };
  const matching = (match: string) =>
    `((:bucket << 36) | o.rowid) IN (SELECT rowid FROM notes_fts WHERE notes_fts MATCH ${match}
       AND rowid BETWEEN (:bucket << 36) AND (:bucket << 36) + ${NOTE_ROWID_MASK})`;
  const tier = terms
    .map((t, i) => {
      replacements[`title${i}`] = `title : "${t}"*`;
      return `(${matching(`:title${i}`)})`;
    })
    .join(" + ");
  const filters = filterSql(search.filter, search.inTitle, "o", replacements);
  return db.sequelize.query<SearchRow>(
    `WITH page AS (
       SELECT o.rowid AS note, o.updated_at AS edited, o.id AS id, ${tier} AS tier
         FROM notes o INDEXED BY notes_by_updated
        WHERE o.owner_id = :ownerId AND o.deleted_at IS NULL AND ${matching(":all")}${filters}
        ORDER BY tier DESC, edited DESC, id DESC
        LIMIT :limit OFFSET :offset)
     SELECT ${SEARCH_ROW_COLUMNS.replace(/(\w+)/g, "n.$1")}
       FROM page CROSS JOIN notes n ON n.rowid = page.note
      ORDER BY page.tier DESC, page.edited DESC, page.id DESC`,
    { replacements, type: QueryTypes.SELECT },
  );
}
