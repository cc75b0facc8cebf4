import { DataTypes } from "sequelize";
import type { Migration } from "../migrate";

const date = (allowNull = false) => ({ type: DataTypes.DATE(3), allowNull });

export const admin: Migration = {
  name: "2026-11-23T03-00-admin",
  async up({ context: { queryInterface, tableOptions } }) {
    await queryInterface.createTable(
      "api_keys",
      {
        id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
        user_id: {
          type: DataTypes.STRING(36),
          allowNull: false,
          references: { model: "users", key: "id" },
          onDelete: "CASCADE",
        },
        name: { type: DataTypes.STRING(100), allowNull: false },
        prefix: { type: DataTypes.STRING(16), allowNull: false },
        key_hash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
        created_at: date(),
        expires_at: date(true),
        last_used_at: date(true),
        revoked_at: date(true),
      },
      tableOptions,
    );
    await queryInterface.addIndex("api_keys", ["user_id"]);

    await queryInterface.createTable(
      "audit_events",
      {
        id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
        action: { type: DataTypes.STRING(40), allowNull: false },
        actor_id: { type: DataTypes.STRING(36), allowNull: true },
        target_user_id: { type: DataTypes.STRING(36), allowNull: true },
        target_email: { type: DataTypes.STRING(254), allowNull: true },
        ip: { type: DataTypes.STRING(45), allowNull: true },
        details: { type: DataTypes.TEXT, allowNull: true },
        created_at: date(),
      },
      tableOptions,
    );
    await queryInterface.addIndex("audit_events", ["created_at", "id"]);
    await queryInterface.addIndex("audit_events", ["action", "created_at"]);
    await queryInterface.addIndex("audit_events", ["target_user_id", "created_at"]);
  },
  async down({ context: { queryInterface } }) {
    await queryInterface.dropTable("audit_events");
    await queryInterface.dropTable("api_keys");
  },
};
