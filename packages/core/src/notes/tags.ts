// A person's tags. A tag is compared by its folded key (no case, no accents) and shown as first
// written. notes.tags (JSON, for lists and the search index) and note_tags (for filters and
// counts) say the same thing: every write here changes both in one transaction.
import { newId, Op, QueryTypes, tagKey, tagNamesOf, type Transaction } from "@notebox/db";
import type { CoreDeps } from "../deps";
import { AppError } from "../errors";

/** Trimmed names, one per key (the first spelling), in the order given. */
export function distinctTags(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of names) {
    const name = raw.trim().replace(/\s+/g, " ");
    const key = tagKey(name);
    if (key === "" || seen.has(key)) continue;
    seen.add(key);
    out.push(name);
  }
  return out;
}

/** The owner's tag rows for `names`, created where missing; keyed by tag key. */
async function ensureTags(deps: CoreDeps, ownerId: string, names: string[], transaction: Transaction) {
  const { Tag } = deps.db.models;
  const keys = names.map(tagKey);
  const now = new Date();
  await Tag.bulkCreate(
    names.map((name, i) => ({ id: newId(), ownerId, name, nameKey: keys[i]!, createdAt: now })),
    { ignoreDuplicates: true, transaction },
  );
  const rows = await Tag.findAll({ where: { ownerId, nameKey: { [Op.in]: keys } }, transaction });
  return new Map(rows.map((row) => [row.nameKey, row]));
}

/** Removes the owner's tags that no note carries any more. */
export async function dropUnusedTags(deps: Pick<CoreDeps, "db">, ownerId: string, transaction?: Transaction) {
  await deps.db.sequelize.query(
    "DELETE FROM tags WHERE owner_id = :ownerId AND NOT EXISTS (SELECT 1 FROM note_tags nt WHERE nt.tag_id = tags.id)",
    { replacements: { ownerId }, transaction },
  );
}

/**
 * Gives the note exactly `names` (already distinct): note_tags rows and notes.tags. Existing tags
 * keep their first spelling. Returns the names as stored.
 */
export async function setNoteTags(
  deps: CoreDeps,
  ownerId: string,
  noteId: string,
  names: string[],
  transaction: Transaction,
): Promise<string[]> {
  const { Note, NoteTag } = deps.db.models;
  const tags = await ensureTags(deps, ownerId, names, transaction);
  const stored = names.map((name) => tags.get(tagKey(name))!);
  await NoteTag.destroy({ where: { noteId }, transaction });
  await NoteTag.bulkCreate(
    stored.map((tag) => ({ noteId, tagId: tag.id, ownerId })),
    { transaction },
  );
  const shown = stored.map((tag) => tag.name);
  await Note.update(
    { tags: shown.length ? JSON.stringify(shown) : null },
    { where: { id: noteId, ownerId }, transaction, silent: true },
  );
  await dropUnusedTags(deps, ownerId, transaction);
  return shown;
}

/** The tags of the owner's notes outside the trash, A to Z, each with how many notes carry it. */
async function readTags(deps: CoreDeps, ownerId: string) {
  const rows = await deps.db.sequelize.query<{ name: string; count: number | string }>(
    `SELECT t.name, COUNT(*) AS count
       FROM note_tags nt JOIN tags t ON t.id = nt.tag_id JOIN notes n ON n.id = nt.note_id
      WHERE nt.owner_id = :ownerId AND n.deleted_at IS NULL
      GROUP BY t.id, t.name, t.name_key
      ORDER BY t.name_key, t.id`,
    { replacements: { ownerId }, type: QueryTypes.SELECT },
  );
  return rows.map((row) => ({ name: row.name, count: Number(row.count) }));
}

export function listTags({ deps, ownerId }: { deps: CoreDeps; ownerId: string }) {
  return deps.cache.remember("notes", ownerId, ["tags"], () => readTags(deps, ownerId));
}

const noSuchTag = () => new AppError("NOT_FOUND", "No such tag.");

/**
 * Rewrites notes.tags of the notes carrying `tagIds` from note_tags, and bumps their version: the
 * tags are part of the note, so an editor open on an older version must not write them back.
 */
async function refreshTagNames(
  deps: CoreDeps,
  ownerId: string,
  noteIds: string[],
  transaction: Transaction,
  renamed?: { fromKey: string; to: string },
) {
  if (noteIds.length === 0) return;
  const { Note } = deps.db.models;
  const rows = await deps.db.sequelize.query<{ note_id: string; name: string }>(
    `SELECT nt.note_id, t.name FROM note_tags nt JOIN tags t ON t.id = nt.tag_id
      WHERE nt.owner_id = :ownerId AND nt.note_id IN (:noteIds)`,
    { replacements: { ownerId, noteIds }, type: QueryTypes.SELECT, transaction },
  );
  const current = new Map<string, Set<string>>();
  for (const row of rows) current.set(row.note_id, (current.get(row.note_id) ?? new Set()).add(row.name));
  const notes = await Note.findAll({ attributes: ["id", "tags"], where: { ownerId, id: noteIds }, transaction });
  for (const note of notes) {
    const names = current.get(note.id) ?? new Set<string>();
    // Keep the note's own order; a renamed or merged tag takes the place of the one it replaced.
    const before = tagNamesOf(note).map((n) => (renamed && tagKey(n) === renamed.fromKey ? renamed.to : n));
    const ordered = distinctTags([...before.filter((n) => names.has(n)), ...names]);
    await Note.update(
      { tags: ordered.length ? JSON.stringify(ordered) : null, version: deps.db.sequelize.literal("version + 1") },
      { where: { id: note.id, ownerId }, transaction, silent: true },
    );
  }
}

async function notesWithTag(deps: CoreDeps, tagId: string, transaction: Transaction): Promise<string[]> {
  const rows = await deps.db.models.NoteTag.findAll({ attributes: ["noteId"], where: { tagId }, transaction });
  return rows.map((row) => row.noteId);
}

/** Renames a tag on every note; into an existing tag, the two merge. */
export async function renameTag({
  deps,
  ownerId,
  from,
  to,
}: {
  deps: CoreDeps;
  ownerId: string;
  from: string;
  to: string;
}): Promise<{ name: string; count: number }> {
  const { Tag, NoteTag } = deps.db.models;
  const [name] = distinctTags([to]);
  const result = await deps.db.transaction(async (transaction) => {
    const source = await Tag.findOne({ where: { ownerId, nameKey: tagKey(from) }, transaction });
    if (!source) throw noSuchTag();
    const noteIds = await notesWithTag(deps, source.id, transaction);
    const target = await Tag.findOne({ where: { ownerId, nameKey: tagKey(name!) }, transaction });
    if (!target || target.id === source.id) {
      await source.update({ name: name!, nameKey: tagKey(name!) }, { transaction });
    } else {
      await NoteTag.bulkCreate(
        noteIds.map((noteId) => ({ noteId, tagId: target.id, ownerId })),
        { ignoreDuplicates: true, transaction },
      );
      await source.destroy({ transaction });
    }
    const kept = target && target.id !== source.id ? target : source;
    await refreshTagNames(deps, ownerId, noteIds, transaction, { fromKey: tagKey(from), to: kept.name });
    return { name: kept.name, count: (await notesWithTag(deps, kept.id, transaction)).length };
  });
  await deps.cache.invalidate("notes", ownerId);
  return result;
}

/** Takes a tag off every note and forgets it. */
export async function deleteTag({ deps, ownerId, name }: { deps: CoreDeps; ownerId: string; name: string }) {
  const result = await deps.db.transaction(async (transaction) => {
    const tag = await deps.db.models.Tag.findOne({ where: { ownerId, nameKey: tagKey(name) }, transaction });
    if (!tag) throw noSuchTag();
    const noteIds = await notesWithTag(deps, tag.id, transaction);
    await tag.destroy({ transaction });
    await refreshTagNames(deps, ownerId, noteIds, transaction);
    return { notes: noteIds.length };
  });
  await deps.cache.invalidate("notes", ownerId);
  return result;
}

/** Tag ids of the owner's tags by name; a name no tag has is left out. */
export async function tagIdsOf(deps: CoreDeps, ownerId: string, names: string[]): Promise<Map<string, string>> {
  if (names.length === 0) return new Map();
  const rows = await deps.db.models.Tag.findAll({
    attributes: ["id", "nameKey"],
    where: { ownerId, nameKey: { [Op.in]: names.map(tagKey) } },
  });
  return new Map(rows.map((row) => [row.nameKey, row.id]));
}
