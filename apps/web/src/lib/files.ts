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

/** The address of a stored file's bytes, as a link or image in a note holds it. */
const CONTENT_PATH = /^\/api\/v1\/files\/([^/?#]+)\/content$/;

/** The file id a link or image in a note points to, when it points to one of this server's files. */
export function attachmentId(href: string): string | null {
  try {
    const url = new URL(href, window.location.href);
    if (url.origin !== window.location.origin) return null;
    const match = CONTENT_PATH.exec(url.pathname);
    return match?.[1] ? decodeURIComponent(match[1]) : null;
  } catch {
    return null;
  }
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

/** Names people know for the types Notebox detects most; anything else is named by `describeSubtype`. */
const TYPE_NAMES: Record<string, string> = {
  "application/octet-stream": "Binary file",
  "application/pdf": "PDF document",
  "application/zip": "ZIP archive",
  "application/gzip": "Gzip archive",
  "application/x-gzip": "Gzip archive",
  "application/x-tar": "TAR archive",
  "application/x-bzip2": "Bzip2 archive",
  "application/x-xz": "XZ archive",
  "application/zstd": "Zstandard archive",
  "application/x-7z-compressed": "7-Zip archive",
  "application/vnd.rar": "RAR archive",
  "application/x-rar-compressed": "RAR archive",
  "application/json": "JSON data",
  "application/xml": "XML document",
  "application/rtf": "Rich text document",
  "application/epub+zip": "EPUB book",
  "application/msword": "Word document",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
  "application/vnd.ms-excel": "Excel spreadsheet",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel spreadsheet",
  "application/vnd.ms-powerpoint": "PowerPoint presentation",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint presentation",
  "application/vnd.oasis.opendocument.text": "OpenDocument text",
  "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet",
  "application/vnd.oasis.opendocument.presentation": "OpenDocument presentation",
  "application/x-sqlite3": "SQLite database",
  "application/wasm": "WebAssembly module",
  "application/x-msdownload": "Windows program",
  "application/x-elf": "Linux program",
  "application/x-mach-binary": "macOS program",
  "application/x-apple-diskimage": "macOS disk image",
  "application/x-iso9660-image": "Disc image",
  "application/vnd.debian.binary-package": "Debian package",
  "application/x-rpm": "RPM package",
  "application/postscript": "PostScript document",
  "text/plain": "Plain text",
  "text/html": "HTML document",
  "text/css": "CSS stylesheet",
  "text/csv": "CSV table",
  "text/markdown": "Markdown text",
  "text/calendar": "Calendar",
  "text/vcard": "Contact card",
  "image/png": "PNG image",
  "image/jpeg": "JPEG image",
  "image/gif": "GIF image",
  "image/webp": "WebP image",
  "image/avif": "AVIF image",
  "image/bmp": "BMP image",
  "image/svg+xml": "SVG image",
  "image/tiff": "TIFF image",
  "image/heic": "HEIC image",
  "image/heif": "HEIF image",
  "image/x-icon": "Icon",
  "image/vnd.microsoft.icon": "Icon",
  "image/vnd.adobe.photoshop": "Photoshop image",
  "audio/mpeg": "MP3 audio",
  "audio/mp4": "MP4 audio",
  "audio/ogg": "Ogg audio",
  "audio/wav": "WAV audio",
  "audio/x-wav": "WAV audio",
  "audio/flac": "FLAC audio",
  "audio/x-flac": "FLAC audio",
  "audio/aac": "AAC audio",
  "audio/webm": "WebM audio",
  "video/mp4": "MP4 video",
  "video/webm": "WebM video",
  "video/ogg": "Ogg video",
  "video/quicktime": "QuickTime video",
  "video/x-matroska": "Matroska video",
  "video/x-msvideo": "AVI video",
  "font/woff": "Web font",
  "font/woff2": "Web font",
  "font/ttf": "TrueType font",
  "font/otf": "OpenType font",
};

/** What a top-level type is called after its subtype: "image/x-foo" is a "Foo image". */
const KIND_NOUNS: Record<string, string> = {
  text: "text",
  image: "image",
  audio: "audio",
  video: "video",
  font: "font",
  model: "3D model",
};

/**
 * A subtype in plain words, without the registry prefixes and suffixes MIME adds:
 * "x-sqlite3" is "Sqlite3", "vnd.ms-outlook" is "Ms outlook". Short single words are acronyms.
 */
function describeSubtype(subtype: string): string {
  const words = subtype
    .replace(/^(x-|vnd\.|prs\.)/, "")
    .replace(/\+[a-z0-9]+$/, "")
    .split(/[.\-_+]+/)
    .filter(Boolean);
  const [only] = words;
  if (only !== undefined && words.length === 1 && only.length <= 4) return only.toUpperCase();
  return capitalize(words.join(" "));
}

/**
 * The type as people name it: "PNG image", "PDF document", "Plain text", "ZIP archive",
 * "Binary file"; a type without a name of its own by its subtype in plain words ("Foo image",
 * "Sqlite3 file"). The MIME type itself is for a title attribute.
 */
export function friendlyType(contentType: string): string {
  const type = baseType(contentType);
  const known = TYPE_NAMES[type];
  if (known) return known;
  const [kind = "", subtype = ""] = type.split("/");
  const words = describeSubtype(subtype);
  if (!words) return KIND_NOUNS[kind] ? capitalize(KIND_NOUNS[kind]) : "Unknown type";
  return `${words} ${KIND_NOUNS[kind] ?? "file"}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
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
