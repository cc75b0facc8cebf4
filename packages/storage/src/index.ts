import { createLocalStorage } from "./local";
import { createS3Storage } from "./s3";
import type { Storage } from "./types";

export type { ByteRange, Storage, StoredObjectInfo } from "./types";
export { pastGrace } from "./types";
export { createLocalStorage } from "./local";
export { createS3Storage, parseS3Url } from "./s3";

/** `file:path` (local disk) or `s3://bucket?...` (any S3-compatible service). */
export function createStorage(url: string): Storage {
  if (url.startsWith("s3://")) return createS3Storage(url);
  if (url.startsWith("file:")) return createLocalStorage(url.slice("file:".length).replace(/^\/\/(?=\/)/, ""));
  throw new Error(`unsupported STORAGE_URL: ${url}`);
}
