import {
  DataTypes,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Model,
  type ModelStatic,
  type Sequelize,
  type Transaction,
} from "sequelize";
import { hasOpenTask, noteExcerpt } from "../note-text";
import { runStatement, type RowSource } from "../rows";
import { NOTE_EXCERPT_LENGTH, NOTE_TITLE_MAX } from "../sizes";

export interface NoteRow extends Model<InferAttributes<NoteRow>, InferCreationAttributes<NoteRow>> {
  id: string;
  ownerId: string;
  title: string;
  /** The title folded for sorting (no case, no accents); kept by the model's hooks. */
  titleKey: CreationOptional<string | null>;
  description: string;
  /** The start of the text as plain text, for lists; kept by the model's hooks. */
  excerpt: CreationOptional<string>;
  /** Whether the text has an unticked task (`- [ ]`); kept by the model's hooks. */
  openTasks: CreationOptional<boolean>;
  /** Pinned notes come first in every list. */
  pinned: CreationOptional<boolean>;
  /**
   * The note's tag names as first written, a JSON array (null: none). The tags and note_tags
   * tables hold the same for filtering and counting; core's notes/tags.ts writes both together.
   * Indexed for search with the text.
   */
  tags: CreationOptional<string | null>;
  /** Bumped by every edit; an update must name the version it read. */
  version: CreationOptional<number>;
  /** The number of the note's newest revision (0: none yet), and when it was kept. */
  lastRevision: CreationOptional<number>;
  revisedAt: CreationOptional<Date | null>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
  /** Set while the note is in the trash. */
  deletedAt: CreationOptional<Date | null>;
}

export type RevisionSource = "edit" | "restore" | "import";

/** An earlier state of a note's title and text. */
export interface NoteRevisionRow extends Model<
  InferAttributes<NoteRevisionRow>,
  InferCreationAttributes<NoteRevisionRow>
> {
  id: string;
  noteId: string;
  /** 1, 2, 3… per note, in the order they were kept. */
  revision: number;
  title: string;
  description: string;
  /** UTF-8 bytes of title and text. */
  bytes: number;
  /** What replaced this state: an edit, a restore of another revision, or an import. */
  source: RevisionSource;
  /** When this state was replaced. */
  createdAt: Date;
}

/** What titles sort by: "Éclair", "eclair" and "ECLAIR" side by side, between "banana" and "zebra". */
export function titleSortKey(title: string): string {
  return title.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase().slice(0, 255);
}

/** The tag names of a row's `tags` column. */
export function tagNamesOf(row: Pick<NoteRow, "tags">): string[] {
  if (!row.tags) return [];
  const names: unknown = JSON.parse(row.tags);
  return Array.isArray(names) ? names.filter((n): n is string => typeof n === "string") : [];
}

/**
 * Inserts a new note without a model instance (notes.create is a hot path): the derived columns
 * computed by the same functions as the hooks below.
 */
export async function insertNote(
  db: RowSource,
  note: { id: string; ownerId: string; title: string; description: string; pinned: boolean; at: Date },
  transaction?: Transaction,
): Promise<void> {
  const derived = derivedFromText(note.description);
  await runStatement(
    db,
    `INSERT INTO notes (id, owner_id, title, title_key, description, excerpt, open_tasks, pinned, version, last_revision, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, 0, ?, ?)`,
    [
      note.id,
      note.ownerId,
      note.title,
      titleSortKey(note.title),
      note.description,
      derived.excerpt,
      derived.openTasks,
      note.pinned,
      note.at,
      note.at,
    ],
    transaction,
  );
}

/** What an edit of notes.update writes (besides the columns derived from a title or a text). */
export interface NoteEdit {
  title?: string;
  description?: string;
  pinned?: boolean;
  version?: number;
  lastRevision?: number;
  revisedAt?: Date | null;
  updatedAt?: Date;
}

/** The columns an edit may write: its own and those derived from a title or a text. */
type EditedAttribute = keyof NoteEdit | "titleKey" | "excerpt" | "openTasks";

/**
 * Writes an edit of the owner's note outside the trash without a model (notes.update is a hot path:
 * every autosave is one), only while it is at `version` when one is given; the derived columns
 * computed by the same functions as the hooks below. Resolves to the rows changed: 0 or 1.
 */
export function updateNoteRow(
  db: RowSource,
  { id, ownerId, version }: { id: string; ownerId: string; version?: number },
  edit: NoteEdit,
  transaction?: Transaction,
): Promise<number> {
  const values: Partial<Record<EditedAttribute, string | number | boolean | Date | null>> = {
    ...edit,
    ...derivedFrom(edit),
  };
  const columns = (Object.keys(values) as EditedAttribute[]).filter((key) => values[key] !== undefined);
  // Each attribute's column as the model names it (the models are defined with the connection).
  const attributes = db.sequelize.models.Note!.getAttributes();
  return runStatement(
    db,
    `UPDATE notes SET ${columns.map((key) => `${attributes[key]!.field!} = ?`).join(", ")}
      WHERE id = ? AND owner_id = ? AND deleted_at IS NULL${version === undefined ? "" : " AND version = ?"}`,
    [...columns.map((key) => values[key]!), id, ownerId, ...(version === undefined ? [] : [version])],
    transaction,
  );
}

/** The columns derived from a note's text, as the hooks below keep them. */
function derivedFromText(description: string) {
  return { excerpt: noteExcerpt(description), openTasks: hasOpenTask(description) };
}

/** The columns derived from a title or a text being written (either may be left out). */
function derivedFrom({ title, description }: { title?: unknown; description?: unknown }) {
  return {
    ...(typeof title === "string" ? { titleKey: titleSortKey(title) } : {}),
    ...(typeof description === "string" ? derivedFromText(description) : {}),
  };
}

export function defineNoteModels(sequelize: Sequelize) {
  const Note: ModelStatic<NoteRow> = sequelize.define<NoteRow>(
    "Note",
    {
      id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
      ownerId: { type: DataTypes.STRING(36), allowNull: false },
      title: { type: DataTypes.STRING(NOTE_TITLE_MAX), allowNull: false },
      titleKey: { type: DataTypes.STRING(255), allowNull: true },
      // MEDIUMTEXT on MySQL (TEXT stops at 64 KB); SQLite's TEXT has no size variants.
      description: {
        type: sequelize.getDialect() === "sqlite" ? DataTypes.TEXT : DataTypes.TEXT("medium"),
        allowNull: false,
      },
      excerpt: { type: DataTypes.STRING(NOTE_EXCERPT_LENGTH + 15), allowNull: false, defaultValue: "" },
      openTasks: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      pinned: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      tags: { type: DataTypes.TEXT, allowNull: true },
      version: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 },
      lastRevision: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      revisedAt: { type: DataTypes.DATE(3), allowNull: true },
      createdAt: { type: DataTypes.DATE(3), allowNull: false },
      updatedAt: { type: DataTypes.DATE(3), allowNull: false },
      deletedAt: { type: DataTypes.DATE(3), allowNull: true },
    },
    {
      tableName: "notes",
      hooks: {
        // Every way a title or text is written keeps what is derived from it in step: create,
        // save, and Note.update().
        beforeSave(note) {
          if (note.changed("title")) note.titleKey = titleSortKey(note.title);
          if (note.changed("description")) Object.assign(note, derivedFromText(note.description));
        },
        beforeBulkUpdate(options) {
          // Sequelize hands the new values to this hook as `attributes` (missing from its types).
          const values = (options as typeof options & { attributes: Partial<NoteRow> }).attributes;
          const derived = derivedFrom(values);
          Object.assign(values, derived);
          for (const field of Object.keys(derived) as (keyof InferAttributes<NoteRow>)[]) {
            if (options.fields && !options.fields.includes(field)) options.fields.push(field);
          }
        },
      },
    },
  );
  const NoteRevision: ModelStatic<NoteRevisionRow> = sequelize.define<NoteRevisionRow>(
    "NoteRevision",
    {
      id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
      noteId: { type: DataTypes.STRING(36), allowNull: false },
      revision: { type: DataTypes.INTEGER, allowNull: false },
      title: { type: DataTypes.STRING(NOTE_TITLE_MAX), allowNull: false },
      description: {
        type: sequelize.getDialect() === "sqlite" ? DataTypes.TEXT : DataTypes.TEXT("medium"),
        allowNull: false,
      },
      bytes: { type: DataTypes.INTEGER, allowNull: false },
      source: { type: DataTypes.STRING(16), allowNull: false },
      createdAt: { type: DataTypes.DATE(3), allowNull: false },
    },
    { tableName: "note_revisions", timestamps: false },
  );

  return { Note, NoteRevision };
}
