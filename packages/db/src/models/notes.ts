import {
  DataTypes,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Model,
  type ModelStatic,
  type Sequelize,
} from "sequelize";
import { NOTE_TITLE_MAX } from "../sizes";

export interface NoteRow extends Model<InferAttributes<NoteRow>, InferCreationAttributes<NoteRow>> {
  id: string;
  ownerId: string;
  /**
   * The owner as one search token ("u" + the id's hex digits). It sits in the full-text index
   * beside the text, so a search intersects with the owner's notes inside the engine instead of
   * ranking every user's matches and filtering afterwards.
   */
  ownerKey: string;
  title: string;
  /** The title folded for sorting (no case, no accents); kept by the model's hooks. */
  titleKey: CreationOptional<string | null>;
  description: string;
  /** Bumped by every edit; an update must name the version it read. */
  version: CreationOptional<number>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
  /** Set while the note is in the trash. */
  deletedAt: CreationOptional<Date | null>;
}

/** What titles sort by: "Éclair", "eclair" and "ECLAIR" side by side, between "banana" and "zebra". */
export function titleSortKey(title: string): string {
  return title.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase().slice(0, 255);
}

export function ownerKeyOf(userId: string): string {
  return `u${userId.replace(/-/g, "")}`;
}

export function defineNoteModels(sequelize: Sequelize) {
  const Note: ModelStatic<NoteRow> = sequelize.define<NoteRow>(
    "Note",
    {
      id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
      ownerId: { type: DataTypes.STRING(36), allowNull: false },
      ownerKey: { type: DataTypes.STRING(33), allowNull: false },
      title: { type: DataTypes.STRING(NOTE_TITLE_MAX), allowNull: false },
      titleKey: { type: DataTypes.STRING(255), allowNull: true },
      // MEDIUMTEXT on MySQL (TEXT stops at 64 KB); SQLite's TEXT has no size variants.
      description: {
        type: sequelize.getDialect() === "sqlite" ? DataTypes.TEXT : DataTypes.TEXT("medium"),
        allowNull: false,
      },
      version: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 },
      createdAt: { type: DataTypes.DATE(3), allowNull: false },
      updatedAt: { type: DataTypes.DATE(3), allowNull: false },
      deletedAt: { type: DataTypes.DATE(3), allowNull: true },
    },
    {
      tableName: "notes",
      hooks: {
        // Every way a title is written keeps its sort key in step: create, save, and Note.update().
        beforeSave(note) {
          if (note.changed("title")) note.titleKey = titleSortKey(note.title);
        },
        beforeBulkUpdate(options) {
          // Sequelize hands the new values to this hook as `attributes` (missing from its types).
          const values = (options as typeof options & { attributes: Partial<NoteRow> }).attributes;
          if (typeof values.title !== "string") return;
          values.titleKey = titleSortKey(values.title);
          if (options.fields && !options.fields.includes("titleKey")) options.fields.push("titleKey");
        },
      },
    },
  );
  return { Note };
}
