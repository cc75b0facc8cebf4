import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";

/** The caller's address: the socket's, or with TRUST_PROXY the one the nearest proxy vouches for. */
export function clientIp(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    // The nearest proxy appends the address it saw: the last entry is the one it vouches for.
    const forwarded = c.req
      .header("x-forwarded-for")
      ?.split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    if (forwarded?.length) return forwarded[forwarded.length - 1]!;
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}
