import { createHash, createHmac, randomInt, timingSafeEqual } from "node:crypto";
import { encodeBase32LowerCaseNoPadding } from "@oslojs/encoding";

/** 20 random bytes in lower-case base32: the Lucia guide's session token, also used for reset links. */
export function generateToken(): string {
  const bytes = new Uint8Array(20);
  crypto.getRandomValues(bytes);
  return encodeBase32LowerCaseNoPadding(bytes);
}

/** What the database stores for a token: hex sha256, so a leaked table holds no usable token. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Six digits from the CSPRNG, zero-padded. */
export function generateCode(): string {
  return randomInt(0, 1_000_000).toString().padStart(6, "0");
}

/**
 * Codes have only a million values, so a plain hash would fall to a brute force of a leaked
 * table; keying it with the server secret means the table alone reveals nothing.
 */
export function hashCode(secret: string, email: string, code: string): string {
  return createHmac("sha256", secret).update(`email-code\0${email}\0${code}`).digest("hex");
}

export function constantTimeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}
