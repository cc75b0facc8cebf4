import { DataTypes } from "sequelize";
import type { Migration } from "../migrate";

const date = (allowNull = false) => ({ type: DataTypes.DATE(3), allowNull });
const userFk = {
  type: DataTypes.STRING(36),
  allowNull: false,
  references: { model: "users", key: "id" },
  onDelete: "CASCADE",
};

export const accounts: Migration = {
  name: "2026-11-23T00-00-accounts",
  async up({ context: { queryInterface, tableOptions } }) {
    await queryInterface.createTable(
      "users",
      {
        id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
        username: { type: DataTypes.STRING(32), allowNull: false },
        username_key: { type: DataTypes.STRING(64).BINARY, allowNull: false, unique: true },
        email: { type: DataTypes.STRING(254).BINARY, allowNull: false, unique: true },
        password_hash: { type: DataTypes.STRING(255), allowNull: false },
        role: { type: DataTypes.STRING(16), allowNull: false, defaultValue: "user" },
        email_verified_at: date(true),
        disabled_at: date(true),
        tokens_valid_after: date(),
        password_changed_at: date(),
        must_change_password: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        last_login_at: date(true),
        created_at: date(),
        updated_at: date(),
      },
      tableOptions,
    );
    await queryInterface.addIndex("users", ["created_at"]);

    await queryInterface.createTable(
      "sessions",
      {
        id: { type: DataTypes.STRING(64), primaryKey: true, allowNull: false },
        user_id: userFk,
        expires_at: date(),
        created_at: date(),
        last_used_at: date(),
        ip: { type: DataTypes.STRING(45), allowNull: true },
        user_agent: { type: DataTypes.STRING(512), allowNull: true },
      },
      tableOptions,
    );
    await queryInterface.addIndex("sessions", ["user_id"]);
    await queryInterface.addIndex("sessions", ["expires_at"]);

    await queryInterface.createTable(
      "email_codes",
      {
        id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
        email: { type: DataTypes.STRING(254).BINARY, allowNull: false },
        purpose: { type: DataTypes.STRING(32), allowNull: false },
        code_hash: { type: DataTypes.STRING(64), allowNull: false },
        attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        expires_at: date(),
        consumed_at: date(true),
        created_at: date(),
      },
      tableOptions,
    );
    await queryInterface.addIndex("email_codes", ["email", "purpose", "created_at"]);

    await queryInterface.createTable(
      "password_reset_tokens",
      {
        id: { type: DataTypes.STRING(64), primaryKey: true, allowNull: false },
        user_id: userFk,
        expires_at: date(),
        used_at: date(true),
        created_at: date(),
      },
      tableOptions,
    );
    await queryInterface.addIndex("password_reset_tokens", ["user_id"]);
  },
  async down({ context: { queryInterface } }) {
    await queryInterface.dropTable("password_reset_tokens");
    await queryInterface.dropTable("email_codes");
    await queryInterface.dropTable("sessions");
    await queryInterface.dropTable("users");
  },
};
