// A client's file name is only a label: keep its last path part, drop control characters, and
// bound it to FILE_NAME_MAX_BYTES while keeping the extension.
import { FILE_NAME_MAX_BYTES as MAX_NAME_BYTES } from "@notebox/db";

export function cleanFileName(raw: string | undefined | null): string {
  let name = (raw ?? "").normalize("NFC");
  name = name.split(/[/\\]/).pop() ?? "";
  // eslint-disable-next-line no-control-regex
  name = name.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, "");
  name = name.replace(/\s+/g, " ").trim();
  if (name === "" || name === "." || name === "..") name = "file";
  if (Buffer.byteLength(name) <= MAX_NAME_BYTES) return name;
  const dot = name.lastIndexOf(".");
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : "";
  const stem = [...name.slice(0, name.length - ext.length)];
  while (stem.length && Buffer.byteLength(stem.join("") + "…" + ext) > MAX_NAME_BYTES) stem.pop();
  return `${stem.join("")}…${ext}`;
}

/** RFC 6266: an ASCII fallback plus the exact name in RFC 5987 encoding. */
export function contentDisposition(kind: "attachment" | "inline", name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
