import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hash,
  randomBytes,
  randomInt,
  timingSafeEqual,
} from "node:crypto";
import { encodeBase32LowerCaseNoPadding } from "@oslojs/encoding";

/** 20 random bytes in lower-case base32: the Lucia guide's session token, also used for reset links. */
export function generateToken(): string {
  const bytes = new Uint8Array(20);
  crypto.getRandomValues(bytes);
  return encodeBase32LowerCaseNoPadding(bytes);
}

/**
 * What the database stores for a token: hex sha256, so a leaked table holds no usable token.
 * One-shot `hash` (a third of a Hash object's cost): every signed-in request hashes its cookie.
 */
export function hashToken(token: string): string {
  return hash("sha256", token, "hex");
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

/** An AES-256-GCM key for one purpose, derived from the server secret. */
function purposeKey(secret: string, purpose: string): Buffer {
  return createHmac("sha256", secret).update(purpose).digest();
}

/**
 * `data` encrypted and authenticated with a key derived from the server secret for `purpose`
 * (so a value sealed for one purpose never opens as another's), as `v1.<base64url>`.
 */
export function seal(secret: string, purpose: string, data: Uint8Array): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", purposeKey(secret, purpose), iv);
  const sealed = Buffer.concat([cipher.update(data), cipher.final()]);
  return `v1.${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64url")}`;
}

/** What seal() sealed, or null when `text` is not a value sealed for `purpose` with this secret. */
export function unseal(secret: string, purpose: string, text: string): Uint8Array | null {
  if (!text.startsWith("v1.")) return null;
  const raw = Buffer.from(text.slice("v1.".length), "base64url");
  if (raw.length < 28) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", purposeKey(secret, purpose), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return new Uint8Array(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]));
  } catch {
    return null;
  }
}
