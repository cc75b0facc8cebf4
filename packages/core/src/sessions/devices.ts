// Known devices: a browser that signed in to an account gets a signed device token (kept in its
// own cookie) and keeps its way in while strangers' failed guesses throttle everyone else. The
// OWASP "device cookies" design: the token names the account, a random device id and its expiry,
// signed with a key derived from the server secret, so it cannot be forged, extended or moved to
// another account.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { CoreDeps } from "../deps";

export const DEVICE_TTL_MS = 365 * 24 * 60 * 60 * 1000;

function signature(deps: Pick<CoreDeps, "config">, payload: string): Buffer {
  const key = createHmac("sha256", deps.config.jwtSecret).update("notebox device v1").digest();
  return createHmac("sha256", key).update(payload).digest();
}

/**
 * A device token for a browser that just proved it holds the account: a new device, or a known
 * one whose token is extended under the same id (so signing in again never mints fresh limits).
 */
export function issueDeviceToken(deps: Pick<CoreDeps, "config">, userId: string, knownId?: string | null): string {
  const deviceId = knownId ?? randomBytes(16).toString("base64url");
  const payload = `${userId}.${deviceId}.${(Date.now() + DEVICE_TTL_MS).toString(36)}`;
  return `${payload}.${signature(deps, payload).toString("base64url")}`;
}

/** The device id when the token is genuine, unexpired and was issued for this account; null otherwise. */
export function knownDeviceId(
  deps: Pick<CoreDeps, "config">,
  token: string | null | undefined,
  userId: string,
): string | null {
  if (!token || token.length > 200) return null;
  const parts = token.split(".");
  if (parts.length !== 4) return null;
  const [owner, deviceId, expires, mac] = parts as [string, string, string, string];
  if (owner !== userId || parseInt(expires, 36) <= Date.now()) return null;
  const given = Buffer.from(mac, "base64url");
  const expected = signature(deps, `${owner}.${deviceId}.${expires}`);
  return given.length === expected.length && timingSafeEqual(given, expected) ? deviceId : null;
}
