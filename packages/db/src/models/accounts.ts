import {
  DataTypes,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Model,
  type ModelStatic,
  type Sequelize,
} from "sequelize";

export type Role = "user" | "admin";

export interface UserRow extends Model<InferAttributes<UserRow>, InferCreationAttributes<UserRow>> {
  id: string;
  username: string;
  /** NFKC lower-case form of the username: uniqueness is case-insensitive on every database. */
  usernameKey: string;
  /** Always stored lower-cased and trimmed. */
  email: string;
  passwordHash: string;
  role: CreationOptional<Role>;
  emailVerifiedAt: Date | null;
  disabledAt: CreationOptional<Date | null>;
  /** Set when an administrator deleted the account: hidden and disabled, its data going in the background. */
  deletionStartedAt: CreationOptional<Date | null>;
  /** Sessions and tokens issued before this instant are dead (password change, disable, role change). */
  tokensValidAfter: Date;
  passwordChangedAt: Date;
  mustChangePassword: CreationOptional<boolean>;
  lastLoginAt: CreationOptional<Date | null>;
  /** The TOTP key, encrypted with a key derived from the server secret; null while 2FA is off. */
  totpSecret: CreationOptional<string | null>;
  /** A key being set up, until a code from it is typed (encrypted likewise). */
  totpPendingSecret: CreationOptional<string | null>;
  totpEnabledAt: CreationOptional<Date | null>;
  /** The last 30-second step a code was accepted for: a code is never accepted twice. */
  totpLastStep: CreationOptional<number | null>;
  /** How many passkeys the account has registered (kept with them, in their transactions). */
  passkeyCount: CreationOptional<number>;
  /** False until the owner chooses a password (accounts opened by single sign-on or an administrator). */
  hasPassword: CreationOptional<boolean>;
  /** This account's file quota in bytes; null: the default (settings, else USER_QUOTA_BYTES). */
  quotaBytes: CreationOptional<number | null>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

/** One of an account's single-use recovery codes, as a keyed hash. */
export interface RecoveryCodeRow extends Model<
  InferAttributes<RecoveryCodeRow>,
  InferCreationAttributes<RecoveryCodeRow>
> {
  id: string;
  userId: string;
  codeHash: string;
  usedAt: CreationOptional<Date | null>;
  createdAt: Date;
}

/** A password sign-in waiting for its second factor: 5 minutes, 5 tries, single use. */
export interface SignInChallengeRow extends Model<
  InferAttributes<SignInChallengeRow>,
  InferCreationAttributes<SignInChallengeRow>
> {
  /** Hex sha256 of the challenge token. */
  id: string;
  userId: string;
  attempts: CreationOptional<number>;
  expiresAt: Date;
  createdAt: Date;
}

export interface SessionRow extends Model<InferAttributes<SessionRow>, InferCreationAttributes<SessionRow>> {
  /** Hex sha256 of the session token; the token itself is never stored. */
  id: string;
  userId: string;
  expiresAt: Date;
  createdAt: Date;
  lastUsedAt: Date;
  ip: string | null;
  userAgent: string | null;
}

export type EmailCodePurpose = "verify_email";

export interface EmailCodeRow extends Model<InferAttributes<EmailCodeRow>, InferCreationAttributes<EmailCodeRow>> {
  id: string;
  email: string;
  purpose: EmailCodePurpose;
  /** HMAC-SHA256 of the code keyed by the server secret. */
  codeHash: string;
  attempts: CreationOptional<number>;
  expiresAt: Date;
  /** Set when the code is used, replaced by a newer one, or killed by too many wrong tries. */
  consumedAt: CreationOptional<Date | null>;
  createdAt: CreationOptional<Date>;
  /** The sign-up attempt the code confirms: the credentials it chose, applied when its code is typed. */
  username: CreationOptional<string | null>;
  usernameKey: CreationOptional<string | null>;
  passwordHash: CreationOptional<string | null>;
}

export interface PasswordResetTokenRow extends Model<
  InferAttributes<PasswordResetTokenRow>,
  InferCreationAttributes<PasswordResetTokenRow>
> {
  /** Hex sha256 of the emailed token. */
  id: string;
  userId: string;
  expiresAt: Date;
  usedAt: CreationOptional<Date | null>;
  createdAt: CreationOptional<Date>;
}

const id36 = () => ({ type: DataTypes.STRING(36), primaryKey: true, allowNull: false });
const hexId = () => ({ type: DataTypes.STRING(64), primaryKey: true, allowNull: false });
const date = (allowNull = false) => ({ type: DataTypes.DATE(3), allowNull });
const userFk = () => ({ type: DataTypes.STRING(36), allowNull: false });

export function defineAccountModels(sequelize: Sequelize) {
  const User: ModelStatic<UserRow> = sequelize.define<UserRow>(
    "User",
    {
      id: id36(),
      username: { type: DataTypes.STRING(32), allowNull: false },
      usernameKey: { type: DataTypes.STRING(64).BINARY, allowNull: false, unique: true },
      email: { type: DataTypes.STRING(254).BINARY, allowNull: false, unique: true },
      passwordHash: { type: DataTypes.STRING(255), allowNull: false },
      role: { type: DataTypes.STRING(16), allowNull: false, defaultValue: "user" },
      emailVerifiedAt: date(true),
      disabledAt: date(true),
      deletionStartedAt: date(true),
      tokensValidAfter: date(),
      passwordChangedAt: date(),
      mustChangePassword: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      lastLoginAt: date(true),
      totpSecret: { type: DataTypes.STRING(255), allowNull: true },
      totpPendingSecret: { type: DataTypes.STRING(255), allowNull: true },
      totpEnabledAt: date(true),
      totpLastStep: { type: DataTypes.INTEGER, allowNull: true },
      passkeyCount: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      hasPassword: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
      quotaBytes: {
        type: DataTypes.BIGINT,
        allowNull: true,
        // BIGINT comes back as a string from MySQL; a quota is well within a double's integers.
        get(this: UserRow) {
          const raw = this.getDataValue("quotaBytes") as number | string | null;
          return raw === null ? null : Number(raw);
        },
      },
      createdAt: date(),
      updatedAt: date(),
    },
    { tableName: "users" },
  );

  const RecoveryCode: ModelStatic<RecoveryCodeRow> = sequelize.define<RecoveryCodeRow>(
    "RecoveryCode",
    {
      id: id36(),
      userId: { type: DataTypes.STRING(36), allowNull: false },
      codeHash: { type: DataTypes.STRING(64), allowNull: false },
      usedAt: date(true),
      createdAt: date(),
    },
    { tableName: "recovery_codes", timestamps: false },
  );

  const SignInChallenge: ModelStatic<SignInChallengeRow> = sequelize.define<SignInChallengeRow>(
    "SignInChallenge",
    {
      id: { type: DataTypes.STRING(64), primaryKey: true, allowNull: false },
      userId: { type: DataTypes.STRING(36), allowNull: false },
      attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      expiresAt: date(),
      createdAt: date(),
    },
    { tableName: "sign_in_challenges", timestamps: false },
  );

  const Session: ModelStatic<SessionRow> = sequelize.define<SessionRow>(
    "Session",
    {
      id: hexId(),
      userId: userFk(),
      expiresAt: date(),
      createdAt: date(),
      lastUsedAt: date(),
      ip: { type: DataTypes.STRING(45), allowNull: true },
      userAgent: { type: DataTypes.STRING(512), allowNull: true },
    },
    { tableName: "sessions", timestamps: false },
  );

  const EmailCode: ModelStatic<EmailCodeRow> = sequelize.define<EmailCodeRow>(
    "EmailCode",
    {
      id: id36(),
      email: { type: DataTypes.STRING(254).BINARY, allowNull: false },
      purpose: { type: DataTypes.STRING(32), allowNull: false },
      codeHash: { type: DataTypes.STRING(64), allowNull: false },
      attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      expiresAt: date(),
      consumedAt: date(true),
      createdAt: date(),
      username: { type: DataTypes.STRING(32), allowNull: true },
      usernameKey: { type: DataTypes.STRING(255), allowNull: true },
      passwordHash: { type: DataTypes.STRING(255), allowNull: true },
    },
    { tableName: "email_codes", updatedAt: false },
  );

  const PasswordResetToken: ModelStatic<PasswordResetTokenRow> = sequelize.define<PasswordResetTokenRow>(
    "PasswordResetToken",
    {
      id: hexId(),
      userId: userFk(),
      expiresAt: date(),
      usedAt: date(true),
      createdAt: date(),
    },
    { tableName: "password_reset_tokens", updatedAt: false },
  );

  // The foreign keys and their ON DELETE CASCADE live in the migrations; these only let queries join.
  const byUser = { foreignKey: "userId" } as const;
  User.hasMany(Session, byUser);
  Session.belongsTo(User, byUser);
  User.hasMany(PasswordResetToken, byUser);
  PasswordResetToken.belongsTo(User, byUser);

  return { User, Session, EmailCode, PasswordResetToken, RecoveryCode, SignInChallenge };
}
