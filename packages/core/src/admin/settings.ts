// What an administrator decides for the whole Notebox: who may sign up (open, by invitation, or
// no one), from which email domains, and the default file quota. Kept as named JSON values; every
// change is audited. Also each account's own quota, and the one rule that says what a quota is.
import type { Transaction } from "@notebox/db";
import { recordAudit } from "../audit";
import type { CoreDeps, RequestMeta } from "../deps";
import { AppError } from "../errors";

export const SIGN_UP_POLICIES = ["open", "invite", "closed"] as const;
export type SignUpPolicy = (typeof SIGN_UP_POLICIES)[number];

/** Whom two-factor sign-in is required of. */
export const TWO_FACTOR_REQUIREMENTS = ["off", "admins", "everyone"] as const;
export type TwoFactorRequirement = (typeof TWO_FACTOR_REQUIREMENTS)[number];

export interface AdminSettings {
  signUp: SignUpPolicy;
  /** Lower-case domains sign-up is limited to; empty: any. Invitations are not limited. */
  allowedDomains: string[];
  /** Bytes; null: USER_QUOTA_BYTES from the configuration. */
  defaultQuotaBytes: number | null;
  requireTwoFactor: TwoFactorRequirement;
  /**
   * Whether members may sign in (and sign up) with a password; off only with single sign-on set
   * up. Administrators keep it, so a provider outage cannot lock everyone out.
   */
  passwordSignIn: boolean;
  /**
   * Whether a first single sign-on links to the account with the same (provider-verified) email
   * at once; off: the person proves the Notebox password first.
   */
  ssoAutoLink: boolean;
}

const DEFAULTS: AdminSettings = {
  signUp: "open",
  allowedDomains: [],
  defaultQuotaBytes: null,
  requireTwoFactor: "off",
  passwordSignIn: true,
  ssoAutoLink: false,
};

const valid: { [K in keyof AdminSettings]: (value: unknown) => value is AdminSettings[K] } = {
  signUp: (v): v is SignUpPolicy => SIGN_UP_POLICIES.includes(v as SignUpPolicy),
  allowedDomains: (v): v is string[] => Array.isArray(v) && v.every((d) => typeof d === "string"),
  defaultQuotaBytes: (v): v is number | null => v === null || (Number.isSafeInteger(v) && (v as number) >= 0),
  requireTwoFactor: (v): v is TwoFactorRequirement => TWO_FACTOR_REQUIREMENTS.includes(v as TwoFactorRequirement),
  passwordSignIn: (v): v is boolean => typeof v === "boolean",
  ssoAutoLink: (v): v is boolean => typeof v === "boolean",
};

export async function readSettings(deps: Pick<CoreDeps, "db">, transaction?: Transaction): Promise<AdminSettings> {
  const rows = await deps.db.models.Setting.findAll({ transaction });
  const settings: AdminSettings = { ...DEFAULTS, allowedDomains: [] };
  for (const row of rows) {
    const name = row.name as keyof AdminSettings;
    if (!(name in valid)) continue;
    const value: unknown = JSON.parse(row.value);
    if (valid[name](value)) (settings as unknown as Record<string, unknown>)[name] = value;
  }
  return settings;
}

/**
 * The settings as every request's authentication reads them: kept for SETTINGS_TTL_MS in this
 * process, so another instance's change applies here within that time (this one's, at once).
 */
const SETTINGS_TTL_MS = 5_000;
const remembered = new WeakMap<object, { at: number; settings: Promise<AdminSettings> }>();

export function currentSettings(deps: Pick<CoreDeps, "db">): Promise<AdminSettings> {
  const kept = remembered.get(deps.db);
  if (kept && Date.now() - kept.at < SETTINGS_TTL_MS) return kept.settings;
  const settings = readSettings(deps);
  remembered.set(deps.db, { at: Date.now(), settings });
  settings.catch(() => remembered.delete(deps.db));
  return settings;
}

/** Whether the administrator requires two-factor sign-in of `user`. */
export function twoFactorRequiredOf(settings: AdminSettings, user: { role: string }): boolean {
  return settings.requireTwoFactor === "everyone" || (settings.requireTwoFactor === "admins" && user.role === "admin");
}

/**
 * Whether `user` must set up two-factor sign-in before anything else: required of them, and they
 * have neither an authenticator app nor a passkey (which is two factors on its own).
 */
export function secondFactorSetupRequired(
  settings: AdminSettings,
  user: { role: string; totpEnabledAt: Date | null; passkeyCount: number },
): boolean {
  if (user.totpEnabledAt || user.passkeyCount > 0) return false;
  return twoFactorRequiredOf(settings, user);
}

/** The settings as the admin page shows them, with the quota that applies when none is set. */
export async function getSettings({ deps }: { deps: CoreDeps }) {
  const settings = await readSettings(deps);
  return {
    ...settings,
    configuredQuotaBytes: deps.config.userQuotaBytes,
    sso: ssoOf(deps),
    mailDelivery: mailDeliveryOf(deps),
  };
}

/**
 * Where mail goes: to a mail server, or (no SMTP_URL) into the server's log and outbox, which
 * pages that promise an email say so a self-hoster knows where to look.
 */
export function mailDeliveryOf(deps: Pick<CoreDeps, "config">): "smtp" | "log" {
  return deps.config.smtpUrl ? "smtp" : "log";
}

/** The single sign-on provider as pages name it, or null when none is set up. */
export function ssoOf(deps: Pick<CoreDeps, "config">): { name: string } | null {
  return deps.config.oidc ? { name: deps.config.oidc.name } : null;
}

export const passwordSignInOff = () =>
  new AppError("FORBIDDEN", "Password sign-in is off here: sign in with single sign-on.", {
    reason: "password_sign_in_disabled",
  });

/** Whether `user` may sign in with a password here. */
export function passwordSignInAllowed(settings: AdminSettings, user: { role: string }): boolean {
  return settings.passwordSignIn || user.role === "admin";
}

export async function updateSettings({
  deps,
  actorId,
  changes,
  meta,
}: {
  deps: CoreDeps;
  actorId: string;
  changes: Partial<AdminSettings>;
  meta: RequestMeta;
}) {
  if (changes.requireTwoFactor && changes.requireTwoFactor !== "off") {
    // Requiring it of administrators without having it would lock the one asking out of this page.
    const actor = await deps.db.models.User.findByPk(actorId, { attributes: ["id", "totpEnabledAt", "passkeyCount"] });
    if (!actor?.totpEnabledAt && !actor?.passkeyCount) {
      throw AppError.field(
        "requireTwoFactor",
        "Set up two-factor sign-in for yourself first (on your account page).",
        "CONFLICT",
      );
    }
  }
  if (changes.passwordSignIn === false && !deps.config.oidc) {
    throw AppError.field(
      "passwordSignIn",
      "Set up single sign-on (OIDC_ISSUER) first: without it, members would have no way to sign in.",
      "CONFLICT",
    );
  }
  const domains = changes.allowedDomains && [...new Set(changes.allowedDomains.map((d) => d.trim().toLowerCase()))];
  const update = { ...changes, ...(domains ? { allowedDomains: domains } : {}) };
  await deps.db.transaction(async (transaction) => {
    const now = new Date();
    for (const [name, value] of Object.entries(update)) {
      if (value === undefined) continue;
      await deps.db.models.Setting.upsert({ name, value: JSON.stringify(value), updatedAt: now }, { transaction });
    }
    await recordAudit({ deps, action: "settings_changed", actorId, ip: meta.ip, details: update, transaction });
  });
  remembered.delete(deps.db);
  return getSettings({ deps });
}

/** Whether sign-up is open to `email`'s domain (invitations are not limited). */
export function domainAllowed(settings: AdminSettings, email: string): boolean {
  if (settings.allowedDomains.length === 0) return true;
  const domain = email.slice(email.lastIndexOf("@") + 1).toLowerCase();
  return settings.allowedDomains.includes(domain);
}

/** An account's file quota: its own, else the default the administrator set, else the configuration's. */
export async function quotaOf(
  deps: Pick<CoreDeps, "db" | "config">,
  userId: string,
  transaction?: Transaction,
): Promise<number> {
  const user = await deps.db.models.User.findByPk(userId, { attributes: ["id", "quotaBytes"], transaction });
  if (user?.quotaBytes !== null && user?.quotaBytes !== undefined) return user.quotaBytes;
  return (await readSettings(deps, transaction)).defaultQuotaBytes ?? deps.config.userQuotaBytes;
}

/** Gives an account a quota of its own, or (null) back to the default. */
export async function setUserQuota({
  deps,
  actorId,
  id,
  quotaBytes,
  meta,
}: {
  deps: CoreDeps;
  actorId: string;
  id: string;
  quotaBytes: number | null;
  meta: RequestMeta;
}) {
  await deps.db.transaction(async (transaction) => {
    const user = await deps.db.models.User.findByPk(id, { lock: transaction.LOCK.UPDATE, transaction });
    if (!user || user.deletionStartedAt) throw new AppError("NOT_FOUND", "No such user.");
    await user.update({ quotaBytes }, { transaction });
    await recordAudit({
      deps,
      action: "quota_changed",
      actorId,
      target: user,
      ip: meta.ip,
      details: { quotaBytes },
      transaction,
    });
  });
  await deps.cache.invalidate("files", id);
  return { id, quotaBytes, effectiveQuotaBytes: await quotaOf(deps, id) };
}
