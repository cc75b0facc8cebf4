// Helpers for the file tests: a test server on either storage driver, uploads through the real
// multipart route (as a browser's FormData would send them, or hand-built for names a browser
// cannot send), and views of what the storage holds.
import { createHash, randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import type { FileRecord, Page } from "@notebox/core";
import type { Storage, StoredObjectInfo } from "@notebox/storage";
import { startS3 } from "@notebox/storage/testing";
import type { TestClient } from "./client";
import { createUser, signIn, startTestServer, type TestServer } from "./server";

export type { FileRecord, Page };

export type StorageDriver = "file" | "s3";
/** Every file scenario runs against both drivers. */
export const drivers: StorageDriver[] = ["file", "s3"];

export const KiB = 1024;
export const MiB = 1024 * 1024;

export interface FilesServer extends TestServer {
  driver: StorageDriver;
  storage: Storage;
}

/** A files server and one signed-in person on it: the setup most file tests share. */
export async function startFilesServerSignedIn(
  driver: StorageDriver,
): Promise<{ t: FilesServer; a: TestClient; ownerId: string }> {
  const t = await startFilesServer(driver);
  const { user, account } = await createUser(t);
  return { t, a: await signIn(t, account), ownerId: user.id };
}

/** A test server whose files go to local disk (under DATA_DIR/files) or to s3rver on loopback. */
export async function startFilesServer(driver: StorageDriver, env: Record<string, string> = {}): Promise<FilesServer> {
  const s3 = driver === "s3" ? await startS3() : null;
  try {
    const t = await startTestServer({ env: { ...(s3 ? { STORAGE_URL: s3.url } : {}), ...env } });
    const closeServer = t.close.bind(t); // the original: Object.assign below replaces t.close
    return Object.assign(t, {
      driver,
      storage: t.server.runtime.deps.storage,
      async close() {
        await closeServer();
        await s3?.close();
      },
    });
  } catch (error) {
    await s3?.close();
    throw error;
  }
}

export const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

export const contentPath = (id: string, query = "") => `/api/v1/files/${encodeURIComponent(id)}/content${query}`;

export interface UploadPart {
  name: string;
  bytes: Uint8Array | string;
  /** The part's declared type; the server must ignore it. */
  type?: string;
}

/** A browser-like form with one `file` part per entry. */
export function fileForm(parts: UploadPart[]): FormData {
  const form = new FormData();
  for (const part of parts) form.append("file", new Blob([part.bytes], { type: part.type ?? "" }), part.name);
  return form;
}

/** POST /api/v1/files with the given parts; the raw response. */
export function uploadRaw(client: TestClient, parts: UploadPart[], init: RequestInit = {}): Promise<Response> {
  return client.fetch("/api/v1/files", { ...init, method: "POST", body: fileForm(parts) });
}

/** Uploads and insists on 201; the created records, in the order sent. */
export async function upload(client: TestClient, parts: UploadPart[]): Promise<FileRecord[]> {
  const res = await uploadRaw(client, parts);
  const text = await res.text();
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { items: FileRecord[] }).items;
}

export async function uploadOne(client: TestClient, name: string, bytes: Uint8Array | string): Promise<FileRecord> {
  const [record] = await upload(client, [{ name, bytes }]);
  return record!;
}

/**
 * A hand-built multipart body, for what FormData cannot express: each part's Content-Disposition
 * parameters are written as given (e.g. an RFC 5987 `filename*` carrying CR, LF or NUL).
 */
export function multipartBody(
  parts: { disposition: string; type?: string; bytes: Uint8Array | string }[],
  boundary = "nbtestboundary7MA4YWxkTrZu0gW",
) {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${part.disposition}\r\n`));
    if (part.type) chunks.push(Buffer.from(`Content-Type: ${part.type}\r\n`));
    chunks.push(Buffer.from("\r\n"), Buffer.from(part.bytes), Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** RFC 5987 value-chars: percent-encode everything but attr-char (encodeURIComponent leaves ' ( ) * alone). */
const rfc5987 = (text: string) =>
  encodeURIComponent(text).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** A file part whose name travels RFC 5987-encoded, so any character reaches the server as sent. */
export function encodedNamePart(name: string, bytes: Uint8Array | string) {
  return {
    disposition: `form-data; name="file"; filename*=UTF-8''${rfc5987(name)}`,
    type: "application/octet-stream",
    bytes,
  };
}

export async function uploadMultipart(
  client: TestClient,
  body: { body: Buffer; contentType: string },
): Promise<Response> {
  return client.fetch("/api/v1/files", {
    method: "POST",
    headers: { "content-type": body.contentType },
    body: body.body,
  });
}

/**
 * A multipart upload written part by part over node:http, for uploads that are slow, cut off or
 * interrupted: the body is produced as the test goes, never held whole.
 */
export class StreamingUpload {
  readonly boundary = `nbstream${randomBytes(8).toString("hex")}`;
  readonly request: http.ClientRequest;
  /** The answer, or the error that ended the request (a reset, a refused connection). */
  readonly answer: Promise<{ status: number; body: string } | { error: Error }>;
  private parts = 0;

  constructor(baseUrl: string, headers: Record<string, string>, query = "") {
    const url = new URL(`/api/v1/files${query}`, baseUrl);
    this.request = http.request({
      host: url.hostname === "localhost" ? "127.0.0.1" : url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      method: "POST",
      headers: { ...headers, "content-type": `multipart/form-data; boundary=${this.boundary}` },
    });
    this.answer = new Promise((resolve) => {
      this.request.on("error", (error) => resolve({ error }));
      this.request.on("response", (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", (error) => resolve({ error }));
      });
    });
  }

  /** For a signed-in test client: its cookies and its Origin; `query` such as "?noteId=…". */
  static as(client: TestClient, query = ""): StreamingUpload {
    return new StreamingUpload(client.baseUrl, { cookie: client.cookieHeader(), origin: client.origin ?? "" }, query);
  }

  /** Starts the next `file` part. */
  startFile(name: string): Promise<void> {
    const head = `${this.parts++ ? "\r\n" : ""}--${this.boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
    return this.write(head);
  }

  /** Writes bytes of the current part, waiting while the server does not take them. */
  write(bytes: Uint8Array | string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.request.destroyed) return reject(new Error("the upload request was destroyed"));
      if (this.request.write(bytes)) resolve();
      else {
        const done = () => {
          this.request.off("close", done);
          this.request.off("drain", done);
          resolve();
        };
        this.request.once("drain", done);
        this.request.once("close", done);
      }
    });
  }

  /** Ends the body properly and waits for the answer. */
  async finish() {
    this.request.end(`\r\n--${this.boundary}--\r\n`);
    return this.answer;
  }

  /** Drops the connection mid-body, as a closed browser tab would. */
  abort() {
    this.request.destroy();
  }
}

/** Downloads a file; the response and every byte of its body. */
export async function download(
  client: TestClient,
  id: string,
  {
    query = "",
    headers = {},
    method = "GET",
  }: { query?: string; headers?: Record<string, string>; method?: string } = {},
) {
  const res = await client.fetch(contentPath(id, query), { method, headers });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { res, bytes };
}

export interface Disposition {
  type: string;
  /** The quoted ASCII fallback. */
  filename: string | undefined;
  /** The RFC 5987 `filename*`, decoded. */
  filenameStar: string | undefined;
}

/** Reads a Content-Disposition header the way a browser does (RFC 6266). */
export function parseDisposition(header: string | null): Disposition {
  if (header === null) throw new Error("no Content-Disposition header");
  const type = header.split(";")[0]!.trim();
  const quoted = /;\s*filename="((?:[^"\\]|\\.)*)"/.exec(header);
  const star = /;\s*filename\*=UTF-8''([^;\s]*)/i.exec(header);
  return {
    type,
    filename: quoted ? quoted[1]!.replace(/\\(.)/g, "$1") : undefined,
    filenameStar: star ? decodeURIComponent(star[1]!) : undefined,
  };
}

/** Every object the storage holds (temporaries excluded). */
export async function storedObjects(storage: Storage): Promise<StoredObjectInfo[]> {
  const objects: StoredObjectInfo[] = [];
  for await (const object of storage.list()) objects.push(object);
  return objects;
}

export async function storedKeys(storage: Storage, prefix = ""): Promise<string[]> {
  return (await storedObjects(storage))
    .map((o) => o.key)
    .filter((k) => k.startsWith(prefix))
    .sort();
}

/** The local driver's temporaries (partial writes); empty for S3. */
export async function temporaries(t: FilesServer): Promise<string[]> {
  if (t.driver !== "file") return [];
  try {
    return await readdir(path.join(t.dataDir, "files", ".tmp"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/** Retries `check` until it stops throwing or the time is up (then throws its last error). */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 3_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A 1x1 PNG. */
export const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
  "base64",
);

/** A minimal one-page PDF. */
export const PDF = Buffer.from(
  "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
    "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 3 3]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
);

export const HTML = "<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n";
export const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>\n';
export const SVG_WITH_PROLOG = '<?xml version="1.0" encoding="UTF-8"?>\n' + SVG;
