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
