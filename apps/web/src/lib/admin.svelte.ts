// What the admin area shares: its types, where its sign-in lives, how its pages react when the
// server refuses them, and how audit events and sizes read for people.
import type { RouterInputs, RouterOutputs } from "@notebox/api";
import { session } from "./session.svelte";
import { toProblem, type ApiProblem } from "./trpc";

export type AdminUser = RouterOutputs["admin"]["users"]["list"]["items"][number];
export type AdminUserDetail = RouterOutputs["admin"]["users"]["get"];
export type AdminStats = RouterOutputs["admin"]["stats"];
export type AuditEntry = RouterOutputs["admin"]["audit"]["list"]["items"][number];
export type AuditAction = AuditEntry["action"];
export type UserSort = NonNullable<RouterInputs["admin"]["users"]["list"]["sort"]>;
export type Role = AdminUser["role"];

// Kept with the session, which sends a visitor of the admin area whose session ended there.
export { adminSignInUrl, isAdminPath } from "./session.svelte";

/**
 * Turns a failed admin call into what the page shows. A refusal for not being an administrator
 * (any more) asks the server who is signed in, so the layout can show its refusal instead of the
 * page. (A session that ended is the tRPC link's: it sends the visitor to the admin sign-in.)
 */
export function adminProblem(error: unknown): ApiProblem {
  let problem = toProblem(error);
  // Admin pages have no fields to put these beside (a stale page link, an id that is not one).
  const fieldMessages = Object.values(problem.fieldErrors).flat();
  if (fieldMessages.length) problem = { ...problem, message: fieldMessages.join(" ") };
  if (problem.code === "FORBIDDEN" && problem.reason === null) void session.refresh();
  return problem;
}

/** A message for the next admin page shown, e.g. "Deleted ..." after leaving a deleted user's page. */
class AdminFlash {
  message = $state<string | null>(null);

  /** Returns the message once and forgets it. */
  take(): string | null {
    const message = this.message;
    this.message = null;
    return message;
  }
}

export const adminFlash = new AdminFlash();

export const ROLE_LABELS: Record<Role, string> = { user: "User", admin: "Administrator" };

export const SORT_LABELS: Record<UserSort, string> = { created: "Newest first", email: "Email A–Z" };

export function isUserSort(value: string | null): value is UserSort {
  return value !== null && Object.hasOwn(SORT_LABELS, value);
}

/** Every audit action with its label, in the order the filter offers them. */
export const ACTION_LABELS: Record<AuditAction, string> = {
  sign_in: "Sign-in",
  sign_in_failed: "Sign-in failed",
  password_reset: "Password reset",
  password_changed: "Password changed",
  role_changed: "Role changed",
  user_disabled: "User disabled",
  user_enabled: "User enabled",
  user_deleted: "User deleted",
  api_key_created: "API key created",
  api_key_revoked: "API key revoked",
  two_factor_enabled: "Two-factor sign-in on",
  two_factor_disabled: "Two-factor sign-in off",
  recovery_codes_regenerated: "Recovery codes renewed",
  passkey_added: "Passkey added",
  passkey_removed: "Passkey removed",
  sso_linked: "Single sign-on linked",
  sso_unlinked: "Single sign-on unlinked",
  settings_changed: "Settings changed",
  quota_changed: "Quota changed",
  invite_created: "Invitation sent",
  invite_revoked: "Invitation revoked",
  invite_accepted: "Invitation accepted",
  user_created: "Account created",
};

export const AUDIT_ACTIONS = Object.keys(ACTION_LABELS) as AuditAction[];

export function isAuditAction(value: string | null): value is AuditAction {
  return value !== null && Object.hasOwn(ACTION_LABELS, value);
}

function roleName(value: unknown): string {
  return value === "admin" || value === "user" ? ROLE_LABELS[value] : String(value);
}

function plural(n: number, one: string, many: string): string {
  return `${new Intl.NumberFormat().format(n)} ${n === 1 ? one : many}`;
}

/** The event's details as a sentence fragment ("From User to Administrator"), or "" when it has none. */
export function describeDetails(entry: AuditEntry): string {
  const details = entry.details;
  if (!details) return "";
  switch (entry.action) {
    case "role_changed":
      return `From ${roleName(details.from)} to ${roleName(details.to)}`;
    case "user_deleted": {
      const parts: string[] = [];
      if (typeof details.username === "string") parts.push(`Username ${details.username}`);
      if (typeof details.files === "number") parts.push(`${plural(details.files, "file", "files")} removed`);
      return parts.join("; ");
    }
    case "api_key_created":
      return typeof details.name === "string" ? `Key “${details.name}”` : "";
    case "sign_in":
      return details.via === "email_code" ? "Email address confirmed" : describeOther(details);
    case "api_key_revoked": {
      // Revoked by hand the key is named by ID; revoked by a new password, by name and why.
      const key =
        typeof details.name === "string"
          ? `Key “${details.name}”`
          : typeof details.keyId === "string"
            ? `Key ID ${details.keyId}`
            : "";
      const why =
        details.reason === "password_changed"
          ? "password changed"
          : details.reason === "password_reset"
            ? "password reset"
            : null;
      return why ? `${key} (${why})` : key;
    }
    default:
      return describeOther(details);
  }
}

function describeOther(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join("; ");
}

const byteUnits = ["KB", "MB", "GB", "TB", "PB"];
const oneDecimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const wholeNumber = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

/** "0 bytes", "512 bytes", "1.5 MB", "12 GB": powers of 1024, one decimal below 10. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) {
    const n = Math.max(0, Math.round(bytes || 0));
    return `${wholeNumber.format(n)} ${n === 1 ? "byte" : "bytes"}`;
  }
  let value = bytes;
  let unit = "bytes";
  for (const next of byteUnits) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return `${(value < 10 ? oneDecimal : wholeNumber).format(value)} ${unit}`;
}

const mediumDate = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/** "Nov 23, 2026": a date that fits a table column. */
export function formatShortDate(iso: string): string {
  return mediumDate.format(Date.parse(iso));
}

/** An IPv4 address the server saw as IPv6-mapped ("::ffff:10.0.0.1") as people write it. */
export function formatIp(ip: string): string {
  return ip.replace(/^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i, "$1");
}

const utcDay = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
const utcDayLong = new Intl.DateTimeFormat(undefined, { dateStyle: "long", timeZone: "UTC" });

/** A "YYYY-MM-DD" UTC day as "Mar 3" (short) or "March 3, 2026". */
export function formatDay(day: string, style: "short" | "long" = "short"): string {
  const time = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(time)) return day;
  return (style === "short" ? utcDay : utcDayLong).format(time);
}
