// Files as the API returns them, and how the web app names, measures and shows them.
import type { RouterOutputs } from "@notebox/api";

export type FileRecord = RouterOutputs["files"]["get"];
export type StorageUsage = RouterOutputs["files"]["usage"];

/** The server's own limit on a file name (UTF-8 bytes); it shortens longer names itself. */
export const NAME_MAX_BYTES = 255;

/** Where the bytes are: a download by default, shown in the page when `inline` (and the type allows it). */
export function contentUrl(id: string, inline = false): string {
  const path = `/api/v1/files/${encodeURIComponent(id)}/content`;
  return inline ? `${path}?disposition=inline` : path;
}

const oneDecimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const UNITS = ["KB", "MB", "GB", "TB"] as const;

/** "512 bytes", "340 KB", "1.2 MB", "10 GB": powers of 1024, one decimal below 10. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return bytes === 1 ? "1 byte" : `${whole.format(bytes)} bytes`;
  let value = bytes;
  let unit: (typeof UNITS)[number] = "KB";
  for (const next of UNITS) {
    value /= 1024;
    unit = next;
    if (value < 1024) break;
  }
  // 1023.96 KB would round to "1024 KB"; that is 1 MB.
  const rounded = value < 10 ? Number(value.toFixed(1)) : Math.round(value);
  if (rounded >= 1024 && unit !== "TB") return formatBytes(1024 ** (UNITS.indexOf(unit) + 2));
  return `${(value < 10 ? oneDecimal : whole).format(rounded)} ${unit}`;
}

/** The type without parameters, lower case: "text/plain; charset=utf-8" is "text/plain". */
export function baseType(contentType: string): string {
  return (contentType.split(";")[0] ?? "").trim().toLowerCase();
}

const IMAGE_NAMES: Record<string, string> = {
  "image/png": "PNG image",
  "image/jpeg": "JPEG image",
  "image/gif": "GIF image",
  "image/webp": "WebP image",
  "image/avif": "AVIF image",
  "image/bmp": "BMP image",
  "image/svg+xml": "SVG image",
  "image/tiff": "TIFF image",
  "image/heic": "HEIC image",
};

/** "PNG image", "PDF document", "Text", "Video", "Audio"; anything else by its MIME type. */
export function friendlyType(contentType: string): string {
  const type = baseType(contentType);
  if (IMAGE_NAMES[type]) return IMAGE_NAMES[type];
  if (type === "application/pdf") return "PDF document";
  if (type === "text/plain") return "Text";
  if (type.startsWith("video/")) return "Video";
  if (type.startsWith("audio/")) return "Audio";
  return type || "Unknown type";
}

export type PreviewKind = "image" | "pdf" | "text" | "audio" | "video" | "none";

/**
 * How a file can be shown in the page. The same types the server agrees to send inline (images
 * but SVG, PDF, plain text, audio, video); everything else is only downloaded.
 */
export function previewKind(contentType: string): PreviewKind {
  const type = baseType(contentType);
  if (/^image\/(png|jpeg|gif|webp|avif|bmp)$/.test(type)) return "image";
  if (type === "application/pdf") return "pdf";
  if (type === "text/plain") return "text";
  if (type.startsWith("audio/")) return "audio";
  if (type.startsWith("video/")) return "video";
  return "none";
}

const encoder = new TextEncoder();

/** The name a person typed, checked the way the server checks it, so the form can say so first. */
export function checkFileName(name: string): string | null {
  const trimmed = name.trim();
  if (!trimmed) return "Give the file a name.";
  if (trimmed === "." || trimmed === "..") return "Choose a name other than “.” or “..”.";
  if (/[/\\]/.test(trimmed)) return "A file name cannot contain / or \\.";
  if (encoder.encode(trimmed).length > NAME_MAX_BYTES) return `Keep the name under ${NAME_MAX_BYTES} bytes.`;
  return null;
}

const uploadDate = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/** "23 Nov 2026" in the browser's own locale. */
export function formatUploadDate(iso: string): string {
  return uploadDate.format(new Date(iso));
}
