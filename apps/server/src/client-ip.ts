import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";

/**
 * The caller's address: the socket's, or with TRUST_PROXY the one the nearest proxy vouches for
 * (the last entry of X-Forwarded-For, which it appended).
 */
export function clientIpFrom(
  { forwardedFor, socketAddress }: { forwardedFor: string | undefined; socketAddress: string | undefined },
  trustProxy: boolean,
): string {
  if (trustProxy && forwardedFor) {
    const forwarded = forwardedFor
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    if (forwarded.length) return forwarded[forwarded.length - 1]!;
  }
  return socketAddress ?? "unknown";
}

/** clientIpFrom for a request the Hono app serves. */
export function clientIp(c: Context, trustProxy: boolean): string {
  let socketAddress: string | undefined;
  try {
    socketAddress = getConnInfo(c).remote.address;
  } catch {
    socketAddress = undefined;
  }
  return clientIpFrom({ forwardedFor: c.req.header("x-forwarded-for"), socketAddress }, trustProxy);
}
