import { DataTypes } from "sequelize";
import type { Migration } from "../migrate";

/**
 * Each sign-up attempt keeps its own credentials with its own code: registering again for an
 * address that has not confirmed it no longer replaces the pending username and password, and the
 * code that is typed confirms the attempt it was mailed for.
 */
export const signUpAttempts: Migration = {
  name: "2026-12-02T00-00-sign-up-attempts",
  async up({ context: { queryInterface } }) {
    await queryInterface.addColumn("email_codes", "username", { type: DataTypes.STRING(32), allowNull: true });
    await queryInterface.addColumn("email_codes", "username_key", { type: DataTypes.STRING(255), allowNull: true });
    await queryInterface.addColumn("email_codes", "password_hash", { type: DataTypes.STRING(255), allowNull: true });
  },
  async down({ context: { sequelize } }) {
    // Plain DROP COLUMN: on SQLite, removeColumn rebuilds the table and loses its indexes.
    for (const column of ["username", "username_key", "password_hash"]) {
      await sequelize.query(`ALTER TABLE email_codes DROP COLUMN ${column}`);
    }
  },
};
