import type { Role, UserRow } from "@notebox/db";

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
