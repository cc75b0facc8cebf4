import {
  DataTypes,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Model,
  type ModelStatic,
  type Sequelize,
} from "sequelize";

export type LegacyImportKind = "user" | "note" | "file";

/** One record brought over from the original system; (kind, legacyId) is the primary key. */
export interface LegacyImportRow extends Model<
  InferAttributes<LegacyImportRow>,
  InferCreationAttributes<LegacyImportRow>
> {
  kind: LegacyImportKind;
  /** The id in the original database, as text. */
  legacyId: string;
  /** The Notebox user, note or file made from it (it may have been deleted since). */
  noteboxId: string;
  createdAt: CreationOptional<Date>;
}

export function defineLegacyModels(sequelize: Sequelize) {
  const LegacyImport: ModelStatic<LegacyImportRow> = sequelize.define<LegacyImportRow>(
    "LegacyImport",
    {
      kind: { type: DataTypes.STRING(16), primaryKey: true, allowNull: false },
      legacyId: { type: DataTypes.STRING(64), primaryKey: true, allowNull: false },
      noteboxId: { type: DataTypes.STRING(36), allowNull: false },
      createdAt: { type: DataTypes.DATE(3), allowNull: false },
    },
    { tableName: "legacy_imports", updatedAt: false },
  );
  return { LegacyImport };
}
