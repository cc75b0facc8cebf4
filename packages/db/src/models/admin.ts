import {
  DataTypes,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Model,
  type ModelStatic,
  type Sequelize,
} from "sequelize";

export interface ApiKeyRow extends Model<InferAttributes<ApiKeyRow>, InferCreationAttributes<ApiKeyRow>> {
  id: string;
  userId: string;
  name: string;
  /** The first characters of the key, shown in lists so a person can tell keys apart. */
  prefix: string;
  /** Hex sha256 of the whole key; the key itself is shown once and never stored. */
  keyHash: string;
  createdAt: CreationOptional<Date>;
  expiresAt: Date | null;
  lastUsedAt: CreationOptional<Date | null>;
  revokedAt: CreationOptional<Date | null>;
}

export interface AuditEventRow extends Model<InferAttributes<AuditEventRow>, InferCreationAttributes<AuditEventRow>> {
  id: string;
  action: string;
  /** Who did it; null for a signed-out caller (failed sign-in, password reset). */
  actorId: string | null;
  /** Whom it concerned. Not a foreign key: the record outlives a deleted user. */
  targetUserId: string | null;
  /** The target's email at the time, so the log still reads after the account is gone. */
  targetEmail: string | null;
  ip: string | null;
  details: string | null;
  createdAt: CreationOptional<Date>;
}

/** One administrator setting: its name and its value as JSON. */
export interface SettingRow extends Model<InferAttributes<SettingRow>, InferCreationAttributes<SettingRow>> {
  name: string;
  value: string;
  updatedAt: Date;
}

/** An invitation to sign up: a single-use link (only its hash is kept) for one address and role. */
export interface InviteRow extends Model<InferAttributes<InviteRow>, InferCreationAttributes<InviteRow>> {
  id: string;
  tokenHash: string;
  email: string;
  role: string;
  invitedBy: string | null;
  createdAt: Date;
  expiresAt: Date;
  usedAt: CreationOptional<Date | null>;
  revokedAt: CreationOptional<Date | null>;
}

export function defineAdminModels(sequelize: Sequelize) {
  const ApiKey: ModelStatic<ApiKeyRow> = sequelize.define<ApiKeyRow>(
    "ApiKey",
    {
      id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
      userId: { type: DataTypes.STRING(36), allowNull: false },
      name: { type: DataTypes.STRING(100), allowNull: false },
      prefix: { type: DataTypes.STRING(16), allowNull: false },
      keyHash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
      createdAt: { type: DataTypes.DATE(3), allowNull: false },
      expiresAt: { type: DataTypes.DATE(3), allowNull: true },
      lastUsedAt: { type: DataTypes.DATE(3), allowNull: true },
      revokedAt: { type: DataTypes.DATE(3), allowNull: true },
    },
    { tableName: "api_keys", updatedAt: false },
  );
  const AuditEvent: ModelStatic<AuditEventRow> = sequelize.define<AuditEventRow>(
    "AuditEvent",
    {
      id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
      action: { type: DataTypes.STRING(40), allowNull: false },
      actorId: { type: DataTypes.STRING(36), allowNull: true },
      targetUserId: { type: DataTypes.STRING(36), allowNull: true },
      targetEmail: { type: DataTypes.STRING(254), allowNull: true },
      ip: { type: DataTypes.STRING(45), allowNull: true },
      details: { type: DataTypes.TEXT, allowNull: true },
      createdAt: { type: DataTypes.DATE(3), allowNull: false },
    },
    { tableName: "audit_events", updatedAt: false },
  );
  const Setting: ModelStatic<SettingRow> = sequelize.define<SettingRow>(
    "Setting",
    {
      name: { type: DataTypes.STRING(64), primaryKey: true, allowNull: false },
      value: { type: DataTypes.TEXT, allowNull: false },
      updatedAt: { type: DataTypes.DATE(3), allowNull: false },
    },
    { tableName: "settings", timestamps: false },
  );
  const Invite: ModelStatic<InviteRow> = sequelize.define<InviteRow>(
    "Invite",
    {
      id: { type: DataTypes.STRING(36), primaryKey: true, allowNull: false },
      tokenHash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
      email: { type: DataTypes.STRING(254), allowNull: false },
      role: { type: DataTypes.STRING(16), allowNull: false },
      invitedBy: { type: DataTypes.STRING(36), allowNull: true },
      createdAt: { type: DataTypes.DATE(3), allowNull: false },
      expiresAt: { type: DataTypes.DATE(3), allowNull: false },
      usedAt: { type: DataTypes.DATE(3), allowNull: true },
      revokedAt: { type: DataTypes.DATE(3), allowNull: true },
    },
    { tableName: "invites", timestamps: false },
  );
  return { ApiKey, AuditEvent, Setting, Invite };
}
