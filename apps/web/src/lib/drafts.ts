// Unsaved edits kept in this browser (localStorage) while a note is being written, so a closed tab
// or a crash loses nothing. Keyed by the signed-in person and the note ("new" for a note not saved
// yet): nobody else signed in on the same browser is ever offered them.

export interface Draft {
  title: string;
  text: string;
  tags: string[];
  /** The version of the note the edit started from (absent for a new note). */
  version?: number;
  /** When it was written, in milliseconds since the epoch. */
  savedAt: number;
}

const PREFIX = "notebox:draft:";
/** Drafts older than this are dropped rather than offered. */
const MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;

function key(userId: string, noteId: string): string {
  return `${PREFIX}${userId}:${noteId}`;
}

function storage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    // Storage blocked by the browser's settings: drafts are simply not kept.
    return null;
  }
}

function isDraft(value: unknown): value is Draft {
  if (typeof value !== "object" || value === null) return false;
  const d = value as Record<string, unknown>;
  return (
    typeof d.title === "string" &&
    typeof d.text === "string" &&
    Array.isArray(d.tags) &&
    d.tags.every((t) => typeof t === "string") &&
    (d.version === undefined || typeof d.version === "number") &&
    typeof d.savedAt === "number"
  );
}

export function readDraft(userId: string, noteId: string): Draft | null {
  const store = storage();
  if (!store) return null;
  try {
    const raw = store.getItem(key(userId, noteId));
    if (!raw) return null;
    const value: unknown = JSON.parse(raw);
    if (!isDraft(value) || Date.now() - value.savedAt > MAX_AGE_MS) {
      store.removeItem(key(userId, noteId));
      return null;
    }
    return value;
  } catch {
    return null;
  }
}

export function writeDraft(userId: string, noteId: string, draft: Omit<Draft, "savedAt">): void {
  try {
    storage()?.setItem(key(userId, noteId), JSON.stringify({ ...draft, savedAt: Date.now() }));
  } catch {
    // Full or blocked: the draft is not kept, the editing goes on.
  }
}

export function clearDraft(userId: string, noteId: string): void {
  try {
    storage()?.removeItem(key(userId, noteId));
  } catch {
    // Nothing to do.
  }
}

/**
 * Writes the draft `delay` ms after the last change (at least every `maxWait` ms while typing goes
 * on without a pause), and at once when the page is hidden or left
 * (a tab closed, the browser sent to the background). `cancel` drops a pending write (the edit was
 * saved or discarded), `stop` also stops listening, when the editor goes away.
 */
export function autosave(
  snapshot: () => { userId: string; noteId: string; draft: Omit<Draft, "savedAt"> } | null,
  delay = 400,
  maxWait = 2000,
): { changed: () => void; flush: () => void; cancel: () => void; stop: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending = false;
  /** When the oldest change not written yet was made. */
  let since = 0;

  function flush() {
    clearTimeout(timer);
    if (!pending) return;
    pending = false;
    const current = snapshot();
    if (current) writeDraft(current.userId, current.noteId, current.draft);
  }
  const onHide = () => {
    if (document.visibilityState === "hidden") flush();
  };
  window.addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", onHide);

  return {
    changed() {
      if (!pending) since = Date.now();
      pending = true;
      clearTimeout(timer);
      timer = setTimeout(flush, Math.max(0, Math.min(delay, since + maxWait - Date.now())));
    },
    flush,
    cancel() {
      clearTimeout(timer);
      pending = false;
    },
    stop() {
      clearTimeout(timer);
      pending = false;
      window.removeEventListener("pagehide", flush);
      document.removeEventListener("visibilitychange", onHide);
    },
  };
}
