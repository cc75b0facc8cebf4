import { DataTypes } from "sequelize";
import type { Migration } from "../migrate";

/**
 * What `notebox import-legacy` brought over from the original system: one row per legacy user,
 * note or file, so a second run (or one resuming after a failure) skips what is already here.
 * Not a foreign key: the row outlives a deleted account, so a rerun does not bring it back.
 */
export const legacyImports: Migration = {
  name: "2026-11-23T04-00-legacy-imports",
  async up({ context: { queryInterface, tableOptions } }) {
    await queryInterface.createTable(
      "legacy_imports",
      {
        kind: { type: DataTypes.STRING(16), primaryKey: true, allowNull: false },
        legacy_id: { type: DataTypes.STRING(64), primaryKey: true, allowNull: false },
        notebox_id: { type: DataTypes.STRING(36), allowNull: false },
        created_at: { type: DataTypes.DATE(3), allowNull: false },
      },
      tableOptions,
    );
  },
  async down({ context: { queryInterface } }) {
    await queryInterface.dropTable("legacy_imports");
  },
};
