import { DataTypes } from "sequelize";
import type { Migration } from "../migrate";

export const files: Migration = {
  name: "2026-11-23T02-00-files",
  async up({ context: { queryInterface, tableOptions } }) {
    await queryInterface.createTable(
      "files",
      {
        id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
        owner_id: {
          type: DataTypes.STRING(36),
          allowNull: false,
          references: { model: "users", key: "id" },
          onDelete: "CASCADE",
        },
        storage_key: { type: DataTypes.STRING(100), allowNull: false, unique: true },
        name: { type: DataTypes.STRING(255), allowNull: false },
        size: { type: DataTypes.BIGINT, allowNull: false },
        sha256: { type: DataTypes.STRING(64), allowNull: false },
        content_type: { type: DataTypes.STRING(127), allowNull: false },
        created_at: { type: DataTypes.DATE(3), allowNull: false },
        updated_at: { type: DataTypes.DATE(3), allowNull: false },
      },
      tableOptions,
    );
    await queryInterface.addIndex("files", ["owner_id", "created_at", "id"], { name: "files_by_created" });
  },
  async down({ context: { queryInterface } }) {
    await queryInterface.dropTable("files");
  },
};
