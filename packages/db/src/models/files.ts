import {
  DataTypes,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Model,
  type ModelStatic,
  type Sequelize,
} from "sequelize";
import { FILE_NAME_MAX_BYTES } from "../sizes";

export interface FileRow extends Model<InferAttributes<FileRow>, InferCreationAttributes<FileRow>> {
  id: string;
  ownerId: string;
  /** Where the bytes are in storage: generated, never derived from the user's file name. */
  storageKey: string;
  /** The display name, cleaned of path parts and control characters; metadata only. */
  name: string;
  size: number;
  sha256: string;
  /** Detected from the bytes, never taken from the client. */
  contentType: string;
  /** The note this file was added to (pasted or dropped into); null for a file of the Files page. */
  noteId: CreationOptional<string | null>;
  /** When it went to the trash; null while it is in the list. */
  deletedAt: CreationOptional<Date | null>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export function defineFileModels(sequelize: Sequelize) {
  const File: ModelStatic<FileRow> = sequelize.define<FileRow>(
    "File",
    {
      id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
      ownerId: { type: DataTypes.STRING(36), allowNull: false },
      storageKey: { type: DataTypes.STRING(100), allowNull: false, unique: true },
      name: { type: DataTypes.STRING(FILE_NAME_MAX_BYTES), allowNull: false },
      size: {
        type: DataTypes.BIGINT,
        allowNull: false,
        // BIGINT arrives as a string from mysql2; every size here fits in a double exactly.
        get(this: FileRow) {
          return Number(this.getDataValue("size"));
        },
      },
      sha256: { type: DataTypes.STRING(64), allowNull: false },
      contentType: { type: DataTypes.STRING(127), allowNull: false },
      noteId: { type: DataTypes.STRING(36), allowNull: true },
      deletedAt: { type: DataTypes.DATE(3), allowNull: true },
      createdAt: { type: DataTypes.DATE(3), allowNull: false },
      updatedAt: { type: DataTypes.DATE(3), allowNull: false },
    },
    { tableName: "files" },
  );
  return { File };
}
