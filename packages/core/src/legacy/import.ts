// `notebox import-legacy`: brings the users, notes and files of the original system's database
// into Notebox. Every record it creates is written to legacy_imports in the same transaction, so a
// second run creates nothing new and a run that stopped part-way picks up where it was.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import {
  newId,
  NOTE_TEXT_MAX_BYTES,
  NOTE_TITLE_MAX,
  Op,
  UniqueConstraintError,
  type LegacyImportKind,
  type LegacyNote,
  type LegacySource,
  type LegacyUser,
  type Role,
} from "@notebox/db";
import type { CoreDeps } from "../deps";
import { detectContentType, SNIFF_BYTES } from "../files/detect";
import { cleanFileName } from "../files/names";
import { checkUsername, isEmailAddress, normalizeEmail, usernameKey } from "../users";

const UNTITLED = "Untitled";

export type LegacySkipReason =
  "invalid_username" | "invalid_email" | "email_taken" | "username_taken" | "deleted_since_import";

const SKIP_MESSAGES: Record<LegacySkipReason, string> = {
  invalid_username:
    "the username is not allowed in Notebox (3 to 32 letters of one script, digits, dots, dashes or underscores)",
  invalid_email: "the email address is not valid",
  email_taken: "another Notebox account has this email address",
  username_taken: "another Notebox account has this username",
  deleted_since_import: "imported by an earlier run, and the Notebox account was deleted since",
};

export interface LegacySkippedUser {
  legacyId: string;
  username: string;
  email: string;
  reason: LegacySkipReason;
  /** The skipped user's notes and files, which are not imported either. */
  notes: number;
  files: number;
}

export interface LegacyImportSummary {
  dryRun: boolean;
  /** Where the records came from, without credentials. */
  source: string;
  users: { imported: number; admins: number; alreadyImported: number; skipped: LegacySkippedUser[] };
  notes: {
    imported: number;
    alreadyImported: number;
    /** Notes of skipped users. */
    skipped: number;
    /** Empty titles given the title "Untitled". */
    untitled: number;
    titlesShortened: number;
    descriptionsShortened: number;
  };
  files: { imported: number; bytes: number; alreadyImported: number; skipped: number };
  /** Notes and files whose `added_by` names no user: nobody to give them to. */
  unowned: { notes: number; files: number };
}

/** With the server's cache, lists a running instance has cached show what a rerun added at once. */
type ImportDeps = Pick<CoreDeps, "db" | "storage" | "passwords"> & Partial<Pick<CoreDeps, "cache">>;

// eslint-disable-next-line no-control-regex -- titles hold no control characters (as in the notes form)
const TITLE_CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex -- tab, line feed and carriage return stay in the text
const TEXT_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/** At most `max` UTF-16 units, never cutting a surrogate pair in half. */
function cutToLength(value: string, max: number): string {
  if (value.length <= max) return value;
  const code = value.charCodeAt(max - 1);
  return value.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** At most `maxBytes` of UTF-8, cut between characters. */
function cutToBytes(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value, "utf8") <= maxBytes) return value;
  // Decoding a cut buffer drops the partial last character as U+FFFD, which is then removed.
  return Buffer.from(value, "utf8")
    .subarray(0, maxBytes)
    .toString("utf8")
    .replace(/\uFFFD$/, "");
}

/** A legacy note as Notebox stores notes, counting what had to change. */
function fitNote(note: LegacyNote, counts: LegacyImportSummary["notes"]) {
  let title = note.title.replace(TITLE_CONTROL, " ").replace(/\s+/g, " ").trim();
  if (!title) {
    title = UNTITLED;
    counts.untitled++;
  } else if (title.length > NOTE_TITLE_MAX) {
    title = cutToLength(title, NOTE_TITLE_MAX).trimEnd();
    counts.titlesShortened++;
  }
  let description = note.description.replace(TEXT_CONTROL, "");
  if (Buffer.byteLength(description, "utf8") > NOTE_TEXT_MAX_BYTES) {
    description = cutToBytes(description, NOTE_TEXT_MAX_BYTES);
    counts.descriptionsShortened++;
  }
  return { title, description };
}

/**
 * Imports everything `source` holds that is not imported yet. With `dryRun` it only counts what
 * it would do and writes nothing. Users whose name or address Notebox cannot take are skipped
 * with their notes and files and listed in the summary; any other failure stops the run, and a
 * later run continues from what was committed.
 */
export async function importLegacy({
  deps,
  source,
  dryRun = false,
}: {
  deps: ImportDeps;
  source: LegacySource;
  dryRun?: boolean;
}): Promise<LegacyImportSummary> {
  const summary: LegacyImportSummary = {
    dryRun,
    source: source.label,
    users: { imported: 0, admins: 0, alreadyImported: 0, skipped: [] },
    notes: { imported: 0, alreadyImported: 0, skipped: 0, untitled: 0, titlesShortened: 0, descriptionsShortened: 0 },
    files: { imported: 0, bytes: 0, alreadyImported: 0, skipped: 0 },
    unowned: { notes: 0, files: 0 },
  };
  const notebox = await noteboxView(deps, dryRun);

  const skip = async (legacy: LegacyUser, reason: LegacySkipReason) => {
    const skipped: LegacySkippedUser = {
      legacyId: legacy.id,
      username: legacy.username,
      email: legacy.email,
      reason,
      notes: 0,
      files: 0,
    };
    for await (const page of source.notes(legacy)) skipped.notes += page.length;
    for await (const page of source.files(legacy)) skipped.files += page.length;
    summary.users.skipped.push(skipped);
    summary.notes.skipped += skipped.notes;
    summary.files.skipped += skipped.files;
  };

  for (const legacy of await source.users()) {
    const target = await placeUser(deps, notebox, legacy);
    if (target.kind === "skip") {
      await skip(legacy, target.reason);
      continue;
    }
    let ownerId = "";
    if (target.kind === "existing") {
      ownerId = target.userId;
      summary.users.alreadyImported++;
    } else {
      if (!dryRun) {
        ownerId = await createUser(deps, legacy, target);
        if (!ownerId) {
          // Another account took the name or address between the check and the insert.
          await skip(legacy, (await takenIn(deps, notebox, target.email, target.usernameKey)) ?? "email_taken");
          continue;
        }
      }
      notebox.claim(target.email, target.usernameKey);
      summary.users.imported++;
      if (target.role === "admin") summary.users.admins++;
    }
    await importNotes(deps, notebox, source, legacy, ownerId, summary);
    await importFiles(deps, notebox, source, legacy, ownerId, summary);
  }

  summary.unowned = await source.unowned();
  return summary;
}

interface NewUser {
  kind: "new";
  username: string;
  usernameKey: string;
  email: string;
  role: Role;
}

type Placement = NewUser | { kind: "existing"; userId: string } | { kind: "skip"; reason: LegacySkipReason };

/**
 * What Notebox already holds, as the import sees it. A dry run also remembers the accounts it
 * would have created, so two legacy users with one address collide there as they would for real;
 * and it reads a database that is not migrated yet as empty instead of failing.
 */
interface NoteboxView {
  dryRun: boolean;
  readable: (table: string) => boolean;
  claim(email: string, key: string): void;
  claimed(email: string, key: string): "email_taken" | "username_taken" | null;
}

async function noteboxView(deps: ImportDeps, dryRun: boolean): Promise<NoteboxView> {
  let tables: Set<string> | null = null;
  if (dryRun) {
    const all = (await deps.db.sequelize.getQueryInterface().showAllTables()) as unknown[];
    tables = new Set(all.map((t) => (typeof t === "string" ? t : (t as { tableName: string }).tableName)));
  }
  const emails = new Set<string>();
  const keys = new Set<string>();
  return {
    dryRun,
    readable: (table) => tables === null || tables.has(table),
    claim(email, key) {
      if (!dryRun) return;
      emails.add(email);
      keys.add(key);
    },
    claimed: (email, key) => (emails.has(email) ? "email_taken" : keys.has(key) ? "username_taken" : null),
  };
}

async function importedIds(deps: ImportDeps, notebox: NoteboxView, kind: LegacyImportKind, legacyIds: string[]) {
  if (!notebox.readable("legacy_imports") || legacyIds.length === 0) return new Map<string, string>();
  const rows = await deps.db.models.LegacyImport.findAll({
    attributes: ["legacyId", "noteboxId"],
    where: { kind, legacyId: legacyIds },
    raw: true,
  });
  return new Map(rows.map((r) => [r.legacyId, r.noteboxId]));
}

async function placeUser(deps: ImportDeps, notebox: NoteboxView, legacy: LegacyUser): Promise<Placement> {
  const { User } = deps.db.models;
  const mapped = (await importedIds(deps, notebox, "user", [legacy.id])).get(legacy.id);
  if (mapped) {
    const exists = await User.count({ where: { id: mapped } });
    return exists ? { kind: "existing", userId: mapped } : { kind: "skip", reason: "deleted_since_import" };
  }

  // The sign-up form's rules: the name as it is stored (NFKC), one address.
  const { username } = checkUsername(legacy.username);
  const email = normalizeEmail(legacy.email);
  if (username === null) return { kind: "skip", reason: "invalid_username" };
  if (!isEmailAddress(email)) return { kind: "skip", reason: "invalid_email" };
  const key = usernameKey(username);

  const taken = notebox.claimed(email, key) ?? (await takenIn(deps, notebox, email, key));
  if (taken) return { kind: "skip", reason: taken };
  return {
    kind: "new",
    username,
    usernameKey: key,
    email,
    role: legacy.role.trim().toLowerCase() === "admin" ? "admin" : "user",
  };
}

async function takenIn(
  deps: ImportDeps,
  notebox: NoteboxView,
  email: string,
  key: string,
): Promise<"email_taken" | "username_taken" | null> {
  if (!notebox.readable("users")) return null;
  const holder = await deps.db.models.User.findOne({
    attributes: ["email"],
    where: { [Op.or]: [{ email }, { usernameKey: key }] },
  });
  if (!holder) return null;
  return holder.email === email ? "email_taken" : "username_taken";
}

/** The account and its mapping row, in one transaction. Empty when the name or address was taken meanwhile. */
async function createUser(deps: ImportDeps, legacy: LegacyUser, user: NewUser): Promise<string> {
  const { User, LegacyImport } = deps.db.models;
  // The person signs in with the password they had, once: Notebox then asks for a new one.
  const passwordHash = await deps.passwords.hash(legacy.password);
  try {
    return await deps.db.transaction(async (transaction) => {
      const now = new Date();
      const id = newId();
      await User.create(
        {
          id,
          username: user.username,
          usernameKey: user.usernameKey,
          email: user.email,
          passwordHash,
          role: user.role,
          // The original system checked the address when the account was made.
          emailVerifiedAt: now,
          tokensValidAfter: now,
          passwordChangedAt: now,
          mustChangePassword: true,
          createdAt: now,
          updatedAt: now,
        },
        { transaction },
      );
      await LegacyImport.create({ kind: "user", legacyId: legacy.id, noteboxId: id, createdAt: now }, { transaction });
      return id;
    });
  } catch (error) {
    if (error instanceof UniqueConstraintError) return "";
    throw error;
  }
}

/** A page of notes per transaction: each note and its mapping row are committed together. */
async function importNotes(
  deps: ImportDeps,
  notebox: NoteboxView,
  source: LegacySource,
  legacy: LegacyUser,
  ownerId: string,
  summary: LegacyImportSummary,
) {
  const { Note, LegacyImport } = deps.db.models;
  for await (const page of source.notes(legacy)) {
    const done = await importedIds(
      deps,
      notebox,
      "note",
      page.map((n) => n.id),
    );
    const fresh = page.filter((n) => !done.has(n.id));
    summary.notes.alreadyImported += page.length - fresh.length;
    const rows = fresh.map((note) => ({ note, ...fitNote(note, summary.notes) }));
    if (!notebox.dryRun && rows.length) {
      await deps.db.transaction(async (transaction) => {
        const now = new Date();
        for (const { note, title, description } of rows) {
          const id = newId();
          const createdAt = note.createdAt ?? now;
          // Through the model, so the full-text index (SQLite triggers, InnoDB FULLTEXT) takes it in.
          await Note.create(
            {
              id,
              ownerId,
              title,
              description,
              version: 1,
              createdAt,
              updatedAt: createdAt,
              deletedAt: null,
            },
            { transaction, silent: true },
          );
          await LegacyImport.create(
            { kind: "note", legacyId: note.id, noteboxId: id, createdAt: now },
            { transaction },
          );
        }
      });
      await deps.cache?.invalidate("notes", ownerId);
    }
    summary.notes.imported += rows.length;
  }
}

/**
 * One file at a time: its bytes are read from the original database and stored under a new key,
 * then the row and its mapping are committed together; if that fails the bytes are removed again
 * (and a crash in between leaves only an orphan for the storage sweeper).
 */
async function importFiles(
  deps: ImportDeps,
  notebox: NoteboxView,
  source: LegacySource,
  legacy: LegacyUser,
  ownerId: string,
  summary: LegacyImportSummary,
) {
  const { File, LegacyImport } = deps.db.models;
  for await (const page of source.files(legacy)) {
    const done = await importedIds(
      deps,
      notebox,
      "file",
      page.map((f) => f.id),
    );
    for (const file of page) {
      if (done.has(file.id)) {
        summary.files.alreadyImported++;
        continue;
      }
      if (notebox.dryRun) {
        summary.files.imported++;
        summary.files.bytes += file.size;
        continue;
      }
      const bytes = await source.fileBytes(file.id);
      const id = newId();
      const storageKey = `${ownerId}/${id}`;
      await deps.storage.put(storageKey, Readable.from(bytes.length ? [bytes] : [], { objectMode: false }));
      try {
        await deps.db.transaction(async (transaction) => {
          const now = new Date();
          const createdAt = file.createdAt ?? now;
          await File.create(
            {
              id,
              ownerId,
              storageKey,
              name: cleanFileName(file.filename),
              size: bytes.length,
              sha256: createHash("sha256").update(bytes).digest("hex"),
              contentType: await detectContentType(bytes.subarray(0, SNIFF_BYTES)),
              createdAt,
              updatedAt: createdAt,
            },
            { transaction, silent: true },
          );
          await LegacyImport.create(
            { kind: "file", legacyId: file.id, noteboxId: id, createdAt: now },
            { transaction },
          );
        });
      } catch (error) {
        await deps.storage.delete(storageKey).catch(() => {});
        throw error;
      }
      await deps.cache?.invalidate("files", ownerId);
      summary.files.imported++;
      summary.files.bytes += bytes.length;
    }
  }
}

/** The summary as the command line prints it. */
export function formatLegacySummary(summary: LegacyImportSummary): string {
  const { users, notes, files, unowned } = summary;
  const verb = summary.dryRun ? "to import" : "imported";
  const lines = [
    summary.dryRun
      ? `Dry run: nothing was written. From ${summary.source} Notebox would import:`
      : `Imported from ${summary.source}:`,
    `users: ${users.imported} ${verb} (${users.admins} administrators), ${users.alreadyImported} already imported, ${users.skipped.length} skipped`,
    `notes: ${notes.imported} ${verb}, ${notes.alreadyImported} already imported, ${notes.skipped} skipped`,
    `files: ${files.imported} ${verb} (${files.bytes} bytes), ${files.alreadyImported} already imported, ${files.skipped} skipped`,
  ];
  if (notes.untitled || notes.titlesShortened || notes.descriptionsShortened) {
    lines.push(
      `notes changed to fit: ${notes.untitled} empty titles set to "${UNTITLED}", ${notes.titlesShortened} titles shortened to ${NOTE_TITLE_MAX} characters, ${notes.descriptionsShortened} texts shortened to ${NOTE_TEXT_MAX_BYTES / 1024} KB`,
    );
  }
  if (unowned.notes || unowned.files) {
    lines.push(`not imported, no such user in added_by: ${unowned.notes} notes, ${unowned.files} files`);
  }
  for (const user of users.skipped) {
    lines.push(
      `skipped user ${user.legacyId} ${JSON.stringify(user.username)} <${user.email}> (${user.reason}): ${SKIP_MESSAGES[user.reason]}; ${user.notes} notes and ${user.files} files not imported`,
    );
  }
  if (!summary.dryRun && users.imported) {
    lines.push("Imported accounts sign in with their old password and must choose a new one before anything else.");
  }
  return `${lines.join("\n")}\n`;
}
