import {
  DataTypes,
  type InferAttributes,
  type InferCreationAttributes,
  type Model,
  type ModelStatic,
  type Sequelize,
} from "sequelize";
import { TAG_NAME_MAX } from "../sizes";

/** One of a person's tags: the name as first written, and the folded key it is compared by. */
export interface TagRow extends Model<InferAttributes<TagRow>, InferCreationAttributes<TagRow>> {
  id: string;
  ownerId: string;
  name: string;
  nameKey: string;
  createdAt: Date;
}

/** A tag on a note. The owner is repeated so an owner's tags are counted from one index. */
export interface NoteTagRow extends Model<InferAttributes<NoteTagRow>, InferCreationAttributes<NoteTagRow>> {
  noteId: string;
  tagId: string;
  ownerId: string;
}

/** Room for a folded name: folding can lengthen a name a little (e.g. "İ" lower-cases to two). */
const TAG_KEY_MAX = TAG_NAME_MAX * 3;

export function defineTagModels(sequelize: Sequelize) {
  const Tag: ModelStatic<TagRow> = sequelize.define<TagRow>(
    "Tag",
    {
      id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
      ownerId: { type: DataTypes.STRING(36), allowNull: false },
      name: { type: DataTypes.STRING(TAG_NAME_MAX), allowNull: false },
      nameKey: { type: DataTypes.STRING(TAG_KEY_MAX).BINARY, allowNull: false },
      createdAt: { type: DataTypes.DATE(3), allowNull: false },
    },
    { tableName: "tags", timestamps: false },
  );
  const NoteTag: ModelStatic<NoteTagRow> = sequelize.define<NoteTagRow>(
    "NoteTag",
    {
      noteId: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
      tagId: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
      ownerId: { type: DataTypes.STRING(36), allowNull: false },
    },
    { tableName: "note_tags", timestamps: false },
  );
  return { Tag, NoteTag };
}
