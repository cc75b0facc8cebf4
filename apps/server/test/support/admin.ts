// Helpers for the admin, audit and service-access tests: signed-in admins and users, API keys and
// the JWTs they are exchanged for, bearer-only clients (no cookie, no Origin, as another service
// calls), uploads and notes through the real API, and the audit rows as stored.
import { createHmac } from "node:crypto";
import type {
  AdminUserDetail,
  AdminUserListItem,
  ApiKeySummary,
  AuditAction,
  AuditEntry,
  FileRecord,
  Note,
  Page,
} from "@notebox/core";
import type { Role } from "@notebox/db";
import type { CallResult, TestClient } from "./client";
import { createUser, signIn, type TestServer } from "./server";

export type { AdminUserDetail, AdminUserListItem, ApiKeySummary, AuditAction, AuditEntry, FileRecord, Note, Page };

/** The JWT claims the design fixes (section 4): checked against these, not against the code's constants. */
export const JWT_ISS = "notebox";
export const JWT_AUD = "notebox-api";
export const JWT_TTL = 15 * 60;

/** The result's data when the call answered 200; otherwise throws with what the server said. */
export function ok<T>(res: CallResult<T>, what = "call"): T {
  if (res.status !== 200) throw new Error(`${what} failed: ${res.status} ${JSON.stringify(res.error)}`);
  return res.data;
}

/** A verified account created in the database, then signed in through the API. */
export async function signedIn(t: TestServer, role: Role = "user") {
  const { user, account } = await createUser(t, { role });
  const client = await signIn(t, account);
  return { user, account, client };
}

/** A client that presents only `Authorization: Bearer <credential>`: no cookie, no Origin. */
export function bearer(t: TestServer, credential: string): TestClient {
  return t.client({ origin: null, headers: { authorization: `Bearer ${credential}` } });
}

export interface CreatedKey {
  key: string;
  apiKey: ApiKeySummary;
}

export async function createKey(
  client: TestClient,
  name = "backup service",
  expiresAt?: string | null,
): Promise<CreatedKey> {
  return ok(
    await client.mutation<CreatedKey>("auth.apiKeys.create", {
      name,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    }),
    "apiKeys.create",
  );
}

export interface IssuedToken {
  token: string;
  expiresAt: string;
}

/** auth.issueToken called by `client` (a browser session, or a bearer client holding an API key). */
export async function issue(client: TestClient): Promise<IssuedToken> {
  return ok(await client.mutation<IssuedToken>("auth.issueToken"), "auth.issueToken");
}

/** A JWT exchanged for an API key, as a service would get it. */
export async function tokenFromKey(t: TestServer, key: string): Promise<string> {
  return (await issue(bearer(t, key))).token;
}

/** The HS256 key the server signs JWTs with (derived from the server secret, as packages/core does). */
export function jwtSigningKey(t: TestServer): Uint8Array {
  return createHmac("sha256", t.server.runtime.deps.config.jwtSecret).update("notebox jwt v1").digest();
}

export async function createNote(client: TestClient, title: string, description = ""): Promise<Note> {
  return ok(await client.mutation<Note>("notes.create", { title, description }), "notes.create");
}

/** POST /api/v1/files with one `file` part per entry, as a browser's FormData sends them. */
export async function uploadFiles(
  client: TestClient,
  files: { name: string; bytes: string | Uint8Array }[],
): Promise<FileRecord[]> {
  const form = new FormData();
  for (const f of files) {
    const part = typeof f.bytes === "string" ? f.bytes : new Uint8Array(f.bytes);
    form.append("file", new Blob([part]), f.name);
  }
  const res = await client.fetch("/api/v1/files", { method: "POST", body: form });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { items: FileRecord[] }).items;
}

export const contentUrl = (id: string) => `/api/v1/files/${encodeURIComponent(id)}/content`;

/** Every page of an admin list, following nextCursor. */
export async function allPages<T>(
  client: TestClient,
  procedure: string,
  input: Record<string, unknown> = {},
  limit = 2,
): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = ok(
      await client.query<Page<T>>(procedure, { ...input, limit, ...(cursor ? { cursor } : {}) }),
      procedure,
    );
    pages.push(page.items);
    cursor = page.nextCursor;
    if (pages.length > 500) throw new Error(`${procedure} never reached its last page`);
  } while (cursor);
  return pages;
}

/** Audit rows as stored, oldest first; optionally one action and/or one target user. */
export async function auditRows(t: TestServer, where: { action?: AuditAction; targetUserId?: string } = {}) {
  const rows = await t.models.AuditEvent.findAll({
    where,
    order: [
      ["createdAt", "ASC"],
      ["id", "ASC"],
    ],
  });
  return rows.map((r) => ({
    id: r.id,
    action: r.action,
    actorId: r.actorId,
    targetUserId: r.targetUserId,
    targetEmail: r.targetEmail,
    ip: r.ip,
    details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
    createdAt: r.createdAt,
  }));
}

/** The loopback address a test request comes from, in any of the forms Node reports it. */
export const LOOPBACK = /^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/;
