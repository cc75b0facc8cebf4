// The content type comes from the bytes (magic numbers), never from the client.
import { fileTypeFromBuffer } from "file-type";

export const SNIFF_BYTES = 4100;

/** Types a browser may show inline (with a sandbox CSP); everything else is downloaded. */
export function isInlineSafe(contentType: string): boolean {
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  if (type === "image/svg+xml") return false;
  return (
    /^image\/(png|jpeg|gif|webp|avif|bmp)$/.test(type) ||
    type === "application/pdf" ||
    type === "text/plain" ||
    type.startsWith("audio/") ||
    type.startsWith("video/")
  );
}

function looksLikeText(head: Buffer): boolean {
  if (head.includes(0)) return false;
  try {
    // `stream` keeps a multi-byte character cut at the end of the sniffed window from counting as invalid.
    new TextDecoder("utf-8", { fatal: true }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}

export async function detectContentType(head: Buffer): Promise<string> {
  const found = await fileTypeFromBuffer(head);
  if (found && !found.mime.endsWith("/xml")) return found.mime;
  if (!looksLikeText(head)) return "application/octet-stream";
  const start = head.subarray(0, 512).toString("utf8").trimStart().toLowerCase();
  // Markup is labelled for what it is so it is never offered inline.
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<svg[\s>]/.test(start)) return "image/svg+xml";
  if (/^<!doctype html|^<html[\s>]|^<head[\s>]|^<body[\s>]|^<script[\s>]/.test(start)) return "text/html";
  return "text/plain; charset=utf-8";
}
