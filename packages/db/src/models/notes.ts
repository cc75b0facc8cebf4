import {
  DataTypes,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Model,
  type ModelStatic,
  type Sequelize,
} from "sequelize";

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
  description: string;
  /** Bumped by every edit; an update must name the version it read. */
  version: CreationOptional<number>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
  /** Set while the note is in the trash. */
  deletedAt: CreationOptional<Date | null>;
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
      title: { type: DataTypes.STRING(200), allowNull: false },
      // MEDIUMTEXT on MySQL (TEXT stops at 64 KB); SQLite's TEXT has no size variants.
      description: { type: sequelize.getDialect() === "sqlite" ? DataTypes.TEXT : DataTypes.TEXT("medium"), allowNull: false },
      version: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 },
      createdAt: { type: DataTypes.DATE(3), allowNull: false },
      updatedAt: { type: DataTypes.DATE(3), allowNull: false },
      deletedAt: { type: DataTypes.DATE(3), allowNull: true },
    },
    { tableName: "notes" },
  );
  return { Note };
}
