import { DataTypes } from "sequelize";
import type { Migration } from "../migrate";

/**
 * Two-factor sign-in with TOTP: the account's key (encrypted), a key being set up, when 2FA was
 * turned on and the last time step a code was accepted for; single-use recovery codes (keyed
 * hashes); and the challenges of password sign-ins waiting for their second factor.
 */
export const twoFactor: Migration = {
  name: "2026-12-04T01-00-two-factor",
  async up({ context: { queryInterface, tableOptions } }) {
    await queryInterface.addColumn("users", "totp_secret", { type: DataTypes.STRING(255), allowNull: true });
    await queryInterface.addColumn("users", "totp_pending_secret", { type: DataTypes.STRING(255), allowNull: true });
    await queryInterface.addColumn("users", "totp_enabled_at", { type: DataTypes.DATE(3), allowNull: true });
    await queryInterface.addColumn("users", "totp_last_step", { type: DataTypes.INTEGER, allowNull: true });
    const user = {
      type: DataTypes.STRING(36),
      allowNull: false,
      references: { model: "users", key: "id" },
      onDelete: "CASCADE",
    };
    await queryInterface.createTable(
      "recovery_codes",
      {
        id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
        user_id: user,
        code_hash: { type: DataTypes.STRING(64), allowNull: false },
        used_at: { type: DataTypes.DATE(3), allowNull: true },
        created_at: { type: DataTypes.DATE(3), allowNull: false },
      },
      tableOptions,
    );
    await queryInterface.addIndex("recovery_codes", ["user_id"], { name: "recovery_codes_by_user" });
    await queryInterface.createTable(
      "sign_in_challenges",
      {
        id: { type: DataTypes.STRING(64), primaryKey: true, allowNull: false },
        user_id: user,
        attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        expires_at: { type: DataTypes.DATE(3), allowNull: false },
        created_at: { type: DataTypes.DATE(3), allowNull: false },
      },
      tableOptions,
    );
    await queryInterface.addIndex("sign_in_challenges", ["expires_at"], { name: "sign_in_challenges_by_expiry" });
  },
  async down({ context: { queryInterface, sequelize } }) {
    await queryInterface.dropTable("sign_in_challenges");
    await queryInterface.dropTable("recovery_codes");
    // Plain DROP COLUMN: on SQLite, removeColumn rebuilds the table and loses its indexes.
    for (const column of ["totp_last_step", "totp_enabled_at", "totp_pending_secret", "totp_secret"]) {
      await sequelize.query(`ALTER TABLE users DROP COLUMN ${column}`);
    }
  },
};
