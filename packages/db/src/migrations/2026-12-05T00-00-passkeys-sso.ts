import { DataTypes } from "sequelize";
import type { Migration } from "../migrate";

/**
 * Passkeys (WebAuthn): each account's registered credentials with their public keys and
 * signature counters, how many an account has (so a request's authentication needs no second
 * read), and the single-use challenges of registrations and passkey sign-ins. And the accounts'
 * identities at the OpenID Connect provider (issuer and subject), one per account, and whether an
 * account has a password its owner chose (one opened by single sign-on or by an administrator has
 * none until its owner sets one through a reset link).
 */
export const passkeysSso: Migration = {
  name: "2026-12-05T00-00-passkeys-sso",
  async up({ context: { queryInterface, tableOptions } }) {
    await queryInterface.addColumn("users", "passkey_count", {
      type: DataTypes.INTEGER,
      allowNull: false,
      defaultValue: 0,
    });
    await queryInterface.addColumn("users", "has_password", {
      type: DataTypes.BOOLEAN,
      allowNull: false,
      defaultValue: true,
    });
    const user = (allowNull: boolean) => ({
      type: DataTypes.STRING(36),
      allowNull,
      references: { model: "users", key: "id" },
      onDelete: "CASCADE",
    });
    await queryInterface.createTable(
      "passkeys",
      {
        id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
        user_id: user(false),
        credential_id: { type: DataTypes.STRING(512).BINARY, allowNull: false, unique: true },
        public_key: { type: DataTypes.TEXT, allowNull: false },
        counter: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
        transports: { type: DataTypes.STRING(255), allowNull: false, defaultValue: "[]" },
        device_type: { type: DataTypes.STRING(16), allowNull: false },
        backed_up: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        name: { type: DataTypes.STRING(100), allowNull: false },
        created_at: { type: DataTypes.DATE(3), allowNull: false },
        last_used_at: { type: DataTypes.DATE(3), allowNull: true },
      },
      tableOptions,
    );
    await queryInterface.addIndex("passkeys", ["user_id", "created_at"], { name: "passkeys_by_user" });
    await queryInterface.createTable(
      "passkey_challenges",
      {
        id: { type: DataTypes.STRING(64), primaryKey: true, allowNull: false },
        user_id: user(true),
        purpose: { type: DataTypes.STRING(16), allowNull: false },
        expires_at: { type: DataTypes.DATE(3), allowNull: false },
        created_at: { type: DataTypes.DATE(3), allowNull: false },
      },
      tableOptions,
    );
    await queryInterface.addIndex("passkey_challenges", ["expires_at"], { name: "passkey_challenges_by_expiry" });
    await queryInterface.createTable(
      "sso_identities",
      {
        id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
        user_id: { ...user(false), unique: true },
        issuer: { type: DataTypes.STRING(255).BINARY, allowNull: false },
        subject: { type: DataTypes.STRING(255).BINARY, allowNull: false },
        email: { type: DataTypes.STRING(254), allowNull: false },
        created_at: { type: DataTypes.DATE(3), allowNull: false },
        last_used_at: { type: DataTypes.DATE(3), allowNull: true },
      },
      tableOptions,
    );
    await queryInterface.addIndex("sso_identities", ["issuer", "subject"], {
      name: "sso_identities_by_subject",
      unique: true,
    });
  },
  async down({ context: { queryInterface, sequelize } }) {
    await queryInterface.dropTable("sso_identities");
    await queryInterface.dropTable("passkey_challenges");
    await queryInterface.dropTable("passkeys");
    await sequelize.query("ALTER TABLE users DROP COLUMN has_password");
    await sequelize.query("ALTER TABLE users DROP COLUMN passkey_count");
  },
};
