import { DataTypes } from "sequelize";
import type { Migration } from "../migrate";

/**
 * What an administrator decides: settings (sign-up policy, allowed email domains, the default
 * quota) as named JSON values, invitations to sign up (single-use links, hashed), and a quota of
 * each account's own.
 */
export const settingsInvites: Migration = {
  name: "2026-12-04T02-00-settings-invites",
  async up({ context: { queryInterface, tableOptions } }) {
    await queryInterface.createTable(
      "settings",
      {
        name: { type: DataTypes.STRING(64), primaryKey: true, allowNull: false },
        value: { type: DataTypes.TEXT, allowNull: false },
        updated_at: { type: DataTypes.DATE(3), allowNull: false },
      },
      tableOptions,
    );
    await queryInterface.createTable(
      "invites",
      {
        id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
        token_hash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
        email: { type: DataTypes.STRING(254), allowNull: false },
        role: { type: DataTypes.STRING(16), allowNull: false },
        // Not a foreign key: the invitation outlives a deleted administrator.
        invited_by: { type: DataTypes.STRING(36), allowNull: true },
        created_at: { type: DataTypes.DATE(3), allowNull: false },
        expires_at: { type: DataTypes.DATE(3), allowNull: false },
        used_at: { type: DataTypes.DATE(3), allowNull: true },
        revoked_at: { type: DataTypes.DATE(3), allowNull: true },
      },
      tableOptions,
    );
    await queryInterface.addIndex("invites", ["email"], { name: "invites_by_email" });
    await queryInterface.addColumn("users", "quota_bytes", { type: DataTypes.BIGINT, allowNull: true });
  },
  async down({ context: { queryInterface, sequelize } }) {
    await sequelize.query("ALTER TABLE users DROP COLUMN quota_bytes");
    await queryInterface.dropTable("invites");
    await queryInterface.dropTable("settings");
  },
};
