import type { Role, UserRow } from "@notebox/db";
import { AppError } from "./errors";

/** The user as every API answer shows it; never the hash or internal flags. */
export interface PublicUser {
  id: string;
  username: string;
  email: string;
  role: Role;
  createdAt: string;
}

export function toPublicUser(user: UserRow): PublicUser {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
  };
}

/**
 * What an account's username and email address may be: the sign-up form's rules (packages/api
 * schemas), which the import from the original system applies too.
 */
export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
export const USERNAME_CHARACTERS = /^[\p{L}\p{N}_.-]+$/u;
export const EMAIL_MAX = 254;
export const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Letters of any script are fine (internationalised addresses); control, format and pictographic characters are in no deliverable address. */
export const NOT_IN_EMAIL = /[\p{C}\p{Extended_Pictographic}]/u;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function usernameKey(username: string): string {
  return username.normalize("NFKC").toLowerCase();
}

/**
 * The answer to every request but changing the password (and seeing who one is, the sessions,
 * signing out) from an account that must choose a new password: one imported from the original
 * system, whose old password was stored in plain text there.
 */
export function passwordChangeRequired(): AppError {
  return new AppError("FORBIDDEN", "Set a new password first.", { reason: "password_change_required" });
}
