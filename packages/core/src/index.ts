export { requestDeps, type CoreDeps, type RequestMeta } from "./deps";
export { canonicalIp, ipRateKey, requestMeta } from "./client-address";
export { AppError, expectedError, httpStatusOf, type AppErrorCode } from "./errors";
export { createCache, relayCacheChanges, type Cache, type CacheEvent, type CacheScope, type CacheStats } from "./cache";
export { createLimits, defaultLimitRules, serveClusterLimits, type LimitRules, type Limits } from "./limits";
export { createPasswordHasher, PASSWORD_MAX, PASSWORD_MIN, type HashCaller, type PasswordHasher } from "./passwords";
export {
  checkUsername,
  EMAIL_MAX,
  isEmailAddress,
  mixedScripts,
  normalizeEmail,
  toPublicUser,
  USERNAME_MAX,
  USERNAME_MIN,
  usernameKey,
  type PublicUser,
  type UsernameCheck,
} from "./users";
export { hashToken } from "./crypto";

export { register, resendCode } from "./accounts/register";
export { verifyEmail } from "./accounts/verify-email";
export { login, loginSecondFactor, type SecondFactorRequired, type SignedIn } from "./accounts/login";
export {
  deletePasskey,
  listPasskeys,
  loginWithPasskey,
  PASSKEY_NAME_MAX,
  passkeyLoginOptions,
  passkeyRegistrationOptions,
  registerPasskey,
  renamePasskey,
  type PublicPasskey,
} from "./accounts/passkeys";
export {
  completePendingSsoLink,
  finishSso,
  SSO_CALLBACK_PATH,
  SSO_FLOW_TTL_MS,
  ssoIdentity,
  startSso,
  unlinkSso,
  type SsoOutcome,
} from "./accounts/sso";
export {
  disableTotp,
  enableTotp,
  normalizeRecoveryCode,
  regenerateRecoveryCodes,
  setupTotp,
  twoFactorStatus,
} from "./accounts/two-factor";
export { requestPasswordReset, resetLinkInfo, resetPassword } from "./accounts/password-reset";
export { changePassword } from "./accounts/change-password";
export { createAdmin } from "./accounts/create-admin";
export { CODE_TTL_MS, CODE_MAX_WRONG_TRIES } from "./accounts/codes";
export {
  createSession,
  invalidateSession,
  invalidateUserSessions,
  listSessions,
  revokeSession,
  validateSessionToken,
  SESSION_TTL_MS,
  SESSION_RENEW_UNDER_MS,
  type SessionSummary,
  type CallerSession,
  type CallerUser,
  type ValidSession,
} from "./sessions/sessions";
export { DEVICE_TTL_MS } from "./sessions/devices";
export {
  authenticate,
  requireCaller,
  type Authentication,
  type Caller,
  type CallerPolicy,
} from "./sessions/authenticate";
export { adminStats, listUsers, type AdminUserListItem, type AdminUserSummary, type UserSort } from "./admin/users";
export type { Page } from "./pagination";
export { optimizeSearch, purgeExpired, SEARCH_UPKEEP_BUDGET_MS, UNVERIFIED_ACCOUNT_TTL_MS } from "./maintenance";
export { createNote, getNote, updateNote } from "./notes/crud";
export { listNotes, type NoteSort } from "./notes/list";
export { purgeOldTrash, purgeTrash, restoreNote, trashNote, TRASH_RETENTION_MS } from "./notes/trash";
export {
  getRevision,
  listRevisions,
  restoreRevision,
  REVISION_COLLAPSE_MS,
  REVISIONS_PER_NOTE_MAX,
  thinRevisions,
  type Revision,
  type RevisionSummary,
} from "./notes/revisions";
export { searchNotes, type SearchHit } from "./notes/search";
export { deleteTag, listTags, renameTag } from "./notes/tags";
export { BULK_ACTIONS, bulkNotes, type BulkAction } from "./notes/bulk";
export type { Note, NoteSummary } from "./notes/shape";
export { searchTerms, type Segment } from "./notes/highlight";
export { attachFile, getFile, listFiles, purgeFileTrash, renameFile, restoreFile, trashFile } from "./files/crud";
export { openFile, parseRange, type OpenedFile, type RangeResult } from "./files/download";
export { receiveUploads } from "./files/upload";
export { storageUsage } from "./files/usage";
export { sweepStorage, ORPHAN_GRACE_MS } from "./files/sweep";
export { contentDisposition, cleanFileName } from "./files/names";
export { isInlineSafe, detectContentType } from "./files/detect";
export type { FileRecord } from "./files/shape";
export { EXPORT_FORMATS, exportNotes, isExportFormat, type ExportFormat, type NotesExport } from "./notes/export";
export { AUDIT_ACTIONS, listAudit, recordAudit, type AuditAction, type AuditEntry } from "./audit";
export {
  createApiKey,
  issueToken,
  JWT_AUDIENCE,
  JWT_ISSUER,
  JWT_TTL_SECONDS,
  listApiKeys,
  revokeApiKey,
  validateApiKey,
  verifyBearerToken,
  type ApiKeySummary,
  type RevokedApiKey,
} from "./tokens";
export { deleteUser, getUserDetail, setUserDisabled, setUserRole, type AdminUserDetail } from "./admin/manage";
export { finishAccountDeletion, finishAccountDeletions } from "./admin/delete-account";
export {
  formatLegacySummary,
  importLegacy,
  type LegacyImportSummary,
  type LegacySkippedUser,
  type LegacySkipReason,
} from "./legacy/import";
export {
  getSettings,
  quotaOf,
  setUserQuota,
  SIGN_UP_POLICIES,
  TWO_FACTOR_REQUIREMENTS,
  updateSettings,
  type AdminSettings,
  type SignUpPolicy,
} from "./admin/settings";
export { acceptInvite, createInvite, inviteInfo, listInvites, revokeInvite } from "./admin/invites";
export { createUser } from "./admin/create-user";
