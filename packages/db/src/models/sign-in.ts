import {
  DataTypes,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Model,
  type ModelStatic,
  type Sequelize,
} from "sequelize";

/** A registered WebAuthn credential: a discoverable passkey that signs in on its own. */
export interface PasskeyRow extends Model<InferAttributes<PasskeyRow>, InferCreationAttributes<PasskeyRow>> {
  id: string;
  userId: string;
  /** The credential's id, base64url, as the authenticator gave it. */
  credentialId: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  /** The authenticator's signature counter as last seen (0 for authenticators that keep none). */
  counter: number;
  /** JSON array of the transports the authenticator reported. */
  transports: string;
  deviceType: "singleDevice" | "multiDevice";
  backedUp: boolean;
  name: string;
  createdAt: Date;
  lastUsedAt: CreationOptional<Date | null>;
}

export type PasskeyChallengePurpose = "register" | "login";

/** A challenge handed to the browser for one registration or passkey sign-in: single use. */
export interface PasskeyChallengeRow extends Model<
  InferAttributes<PasskeyChallengeRow>,
  InferCreationAttributes<PasskeyChallengeRow>
> {
  /** Hex sha256 of the challenge. */
  id: string;
  /** The account registering; null for a sign-in, where the passkey names the account. */
  userId: string | null;
  purpose: PasskeyChallengePurpose;
  expiresAt: Date;
  createdAt: Date;
}

/** An account's identity at the OpenID Connect provider: what signs it in with single sign-on. */
export interface SsoIdentityRow extends Model<
  InferAttributes<SsoIdentityRow>,
  InferCreationAttributes<SsoIdentityRow>
> {
  id: string;
  userId: string;
  issuer: string;
  subject: string;
  /** The provider's verified email when the identity was linked. */
  email: string;
  createdAt: Date;
  lastUsedAt: CreationOptional<Date | null>;
}

export function defineSignInModels(sequelize: Sequelize) {
  const Passkey: ModelStatic<PasskeyRow> = sequelize.define<PasskeyRow>(
    "Passkey",
    {
      id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
      userId: { type: DataTypes.STRING(36), allowNull: false },
      credentialId: { type: DataTypes.STRING(512).BINARY, allowNull: false, unique: true },
      publicKey: { type: DataTypes.TEXT, allowNull: false },
      counter: {
        type: DataTypes.BIGINT,
        allowNull: false,
        defaultValue: 0,
        // BIGINT comes back as a string from MySQL; a counter is well within a double's integers.
        get(this: PasskeyRow) {
          return Number(this.getDataValue("counter"));
        },
      },
      transports: { type: DataTypes.STRING(255), allowNull: false, defaultValue: "[]" },
      deviceType: { type: DataTypes.STRING(16), allowNull: false },
      backedUp: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      name: { type: DataTypes.STRING(100), allowNull: false },
      createdAt: { type: DataTypes.DATE(3), allowNull: false },
      lastUsedAt: { type: DataTypes.DATE(3), allowNull: true },
    },
    { tableName: "passkeys", timestamps: false },
  );

  const PasskeyChallenge: ModelStatic<PasskeyChallengeRow> = sequelize.define<PasskeyChallengeRow>(
    "PasskeyChallenge",
    {
      id: { type: DataTypes.STRING(64), primaryKey: true, allowNull: false },
      userId: { type: DataTypes.STRING(36), allowNull: true },
      purpose: { type: DataTypes.STRING(16), allowNull: false },
      expiresAt: { type: DataTypes.DATE(3), allowNull: false },
      createdAt: { type: DataTypes.DATE(3), allowNull: false },
    },
    { tableName: "passkey_challenges", timestamps: false },
  );

  const SsoIdentity: ModelStatic<SsoIdentityRow> = sequelize.define<SsoIdentityRow>(
    "SsoIdentity",
    {
      id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
      userId: { type: DataTypes.STRING(36), allowNull: false, unique: true },
      issuer: { type: DataTypes.STRING(255).BINARY, allowNull: false },
      subject: { type: DataTypes.STRING(255).BINARY, allowNull: false },
      email: { type: DataTypes.STRING(254), allowNull: false },
      createdAt: { type: DataTypes.DATE(3), allowNull: false },
      lastUsedAt: { type: DataTypes.DATE(3), allowNull: true },
    },
    { tableName: "sso_identities", timestamps: false },
  );

  return { Passkey, PasskeyChallenge, SsoIdentity };
}
