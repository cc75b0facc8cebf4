// Uploads in flight: one request per file so each has its own progress and its own Cancel, at most
// two at a time, the rest waiting their turn. Kept outside the Files page so uploads go on while
// someone looks at a preview, and the page finds them again when it comes back.
import type { FileRecord } from "./files";
import { problemFromBody, sessionRefused } from "./trpc";

export type UploadStatus = "queued" | "sending" | "finishing" | "done" | "failed" | "cancelled";

const MAX_PARALLEL = 2;
/** The speed is the average over this much of the latest progress, so one slow or fast moment does not swing it. */
const SPEED_WINDOW_MS = 3000;
/** Progress over less time than this says little about the speed yet. */
const SPEED_MIN_SPAN_MS = 500;
const ENDPOINT = "/api/v1/files";

const OFFLINE = "Could not reach Notebox. Check your connection and try again.";
const INTERRUPTED = "The upload was interrupted. Check your connection and try again.";

export class Upload {
  readonly id: number;
  readonly file: File;
  status = $state<UploadStatus>("queued");
  /** Bytes of the request sent so far, and the request's size (the file plus the multipart framing). */
  sent = $state(0);
  total = $state(0);
  /** Bytes per second over the last few seconds; null until there is enough progress to tell. */
  speed = $state<number | null>(null);
  error = $state<string | null>(null);
  result = $state<FileRecord | null>(null);
  xhr: XMLHttpRequest | null = null;
  /** The note the file goes into (pasted or dropped into its text), or null for Files alone. */
  readonly noteId: string | null;
  /** Resolves when it ends, however it ends (see `status`). */
  readonly finished: Promise<Upload>;
  #finish!: (upload: Upload) => void;

  /** Recent progress, oldest first: when, and how many bytes were sent by then. */
  #samples: { at: number; sent: number }[] = [];

  constructor(id: number, file: File, noteId: string | null = null) {
    this.id = id;
    this.file = file;
    this.total = file.size;
    this.noteId = noteId;
    this.finished = new Promise((resolve) => (this.#finish = resolve));
  }

  /** Called once it has ended. */
  end(): void {
    this.#finish(this);
  }

  get name(): string {
    return this.file.name || "file";
  }

  get percent(): number {
    if (this.status === "done" || this.status === "finishing") return 100;
    if (!this.total) return 0;
    return Math.min(100, Math.floor((this.sent / this.total) * 100));
  }

  /** Bytes of the file sent so far (the multipart framing is not the person's). */
  get sentOfFile(): number {
    return Math.min(this.sent, this.file.size);
  }

  /** Seconds until every byte is sent at the current speed; null while the speed is unknown. */
  get secondsLeft(): number | null {
    if (!this.speed) return null;
    return Math.max(0, this.total - this.sent) / this.speed;
  }

  /** Notes progress: `sent` bytes by `at` (ms), and what that makes the speed. */
  progress(sent: number, at: number): void {
    this.sent = sent;
    const samples = this.#samples;
    samples.push({ at, sent });
    // Keep one sample older than the window, so the window is always spanned in full.
    while (samples.length > 2 && (samples[1]?.at ?? at) <= at - SPEED_WINDOW_MS) samples.shift();
    const oldest = samples[0];
    const span = oldest ? at - oldest.at : 0;
    if (oldest && span >= SPEED_MIN_SPAN_MS) this.speed = ((sent - oldest.sent) / span) * 1000;
  }

  /** Starts afresh (a new request): no progress, no speed. */
  restart(): void {
    this.sent = 0;
    this.speed = null;
    this.#samples = [];
  }

  /** Still queued or on its way: Cancel applies. */
  get active(): boolean {
    return this.status === "queued" || this.status === "sending" || this.status === "finishing";
  }
}

export interface UploadEvents {
  /** Files the server stored, as it describes them. */
  uploaded?: (files: FileRecord[], upload: Upload) => void;
  /** An upload ended without a clear answer (cancelled after its bytes were sent): the list may have changed. */
  maybeChanged?: () => void;
  /** Any upload reached an end, whatever it was: storage use may have changed. */
  settled?: (upload: Upload) => void;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** What an upload says when the server's answer brings no sentence of its own. */
const FAILURE_MESSAGES = {
  byStatus: {
    401: "Your session has ended. Sign in again to upload files.",
    403: "The server refused this upload. Reload the page and try again.",
    413: "This file is too large to upload.",
    429: "Too many uploads in a row. Wait a little and try again.",
  },
  otherwise: "The upload failed. Please try again.",
};

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function isFileList(value: unknown): value is FileRecord[] {
  return Array.isArray(value) && value.every((item) => isRecord(item) && typeof item.id === "string");
}

class Uploads {
  items = $state<Upload[]>([]);
  /** The latest thing worth announcing to screen reader users ("Uploaded photo.png."). */
  announcement = $state("");

  #next = 1;
  #listeners = new Set<UploadEvents>();

  get active(): boolean {
    return this.items.some((upload) => upload.active);
  }

  get finished(): boolean {
    return this.items.some((upload) => !upload.active);
  }

  /** Listens for what uploads lead to; returns the way to stop listening. */
  subscribe(events: UploadEvents): () => void {
    this.#listeners.add(events);
    return () => this.#listeners.delete(events);
  }

  /** Queues each file as its own upload, into the note `noteId` when given. */
  add(files: Iterable<File>, { noteId = null }: { noteId?: string | null } = {}): Upload[] {
    const added = [...files].map((file) => new Upload(this.#next++, file, noteId));
    if (!added.length) return added;
    this.items = [...this.items, ...added];
    this.announcement =
      added.length === 1 ? `Uploading ${added[0]?.name ?? "1 file"}.` : `Uploading ${added.length} files.`;
    this.#pump();
    return added;
  }

  /** An entry for something that cannot be uploaded at all (a dropped folder), shown with its reason. */
  reject(name: string, reason: string): void {
    const upload = new Upload(this.#next++, new File([], name));
    upload.status = "failed";
    upload.error = reason;
    upload.end();
    this.items = [...this.items, upload];
    this.announcement = `Could not upload ${name}: ${reason}`;
  }

  cancel(upload: Upload): void {
    if (!upload.active) return;
    if (upload.xhr) {
      // onabort below settles it.
      upload.xhr.abort();
      return;
    }
    upload.status = "cancelled";
    this.announcement = `Cancelled the upload of ${upload.name}.`;
    this.#settle(upload);
  }

  dismiss(upload: Upload): void {
    if (upload.active) return;
    this.items = this.items.filter((u) => u !== upload);
  }

  clearFinished(): void {
    this.items = this.items.filter((u) => u.active);
  }

  /** On sign-out: nothing of one person's uploads stays for the next. */
  reset(): void {
    for (const upload of this.items) {
      if (upload.xhr) {
        upload.xhr.onabort = null;
        upload.xhr.abort();
      }
      upload.end();
    }
    this.items = [];
    this.announcement = "";
    this.#guardUnload();
  }

  #emit(call: (listener: UploadEvents) => void): void {
    for (const listener of this.#listeners) call(listener);
  }

  #pump(): void {
    const running = this.items.filter((u) => u.status === "sending" || u.status === "finishing").length;
    let free = MAX_PARALLEL - running;
    for (const upload of this.items) {
      if (free <= 0) break;
      if (upload.status !== "queued") continue;
      this.#start(upload);
      free--;
    }
    this.#guardUnload();
  }

  #settle(upload: Upload): void {
    upload.xhr = null;
    upload.end();
    this.#emit((l) => l.settled?.(upload));
    this.#pump();
  }

  #start(upload: Upload): void {
    const xhr = new XMLHttpRequest();
    upload.xhr = xhr;
    upload.status = "sending";
    upload.restart();
    upload.progress(0, performance.now());

    xhr.upload.onprogress = (event) => {
      if (upload.status !== "sending") return;
      if (event.lengthComputable && event.total) upload.total = event.total;
      upload.progress(event.loaded, performance.now());
    };
    // Every byte is out: the server stores it and answers.
    xhr.upload.onload = () => {
      if (upload.status === "sending") upload.status = "finishing";
    };

    xhr.onload = () => {
      const body = parse(xhr.responseText);
      if (xhr.status === 201 || xhr.status === 200) {
        const items = isRecord(body) && isFileList(body.items) ? body.items : [];
        upload.status = "done";
        upload.result = items[0] ?? null;
        this.announcement = `Uploaded ${upload.result?.name ?? upload.name}.`;
        this.#emit((l) => l.uploaded?.(items, upload));
        this.#settle(upload);
        return;
      }
      upload.status = "failed";
      upload.error = problemFromBody(xhr.status, body, { messages: FAILURE_MESSAGES }).message;
      this.announcement = `Could not upload ${upload.name}: ${upload.error}`;
      if (xhr.status === 401) sessionRefused();
      this.#settle(upload);
    };

    xhr.onerror = () => {
      upload.status = "failed";
      upload.error = navigator.onLine ? INTERRUPTED : OFFLINE;
      this.announcement = `Could not upload ${upload.name}: ${upload.error}`;
      this.#settle(upload);
    };

    xhr.onabort = () => {
      // Once every byte was sent the server may have kept the file before it noticed.
      const late = upload.status === "finishing";
      upload.status = "cancelled";
      this.announcement = `Cancelled the upload of ${upload.name}.`;
      if (late) this.#emit((l) => l.maybeChanged?.());
      this.#settle(upload);
    };

    const form = new FormData();
    form.append("file", upload.file, upload.name);
    xhr.open("POST", upload.noteId ? `${ENDPOINT}?noteId=${encodeURIComponent(upload.noteId)}` : ENDPOINT);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.send(form);
  }

  #unloadGuarded = false;

  /** Closing or reloading the tab would stop uploads half-way: the browser asks first. */
  #guardUnload(): void {
    const want = this.active;
    if (want === this.#unloadGuarded || typeof window === "undefined") return;
    this.#unloadGuarded = want;
    if (want) window.addEventListener("beforeunload", onbeforeunload);
    else window.removeEventListener("beforeunload", onbeforeunload);
  }
}

function onbeforeunload(event: BeforeUnloadEvent): void {
  event.preventDefault();
  // Older browsers show the prompt only when returnValue is set.
  event.returnValue = "";
}

export const uploads = new Uploads();
