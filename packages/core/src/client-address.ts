// Who a request comes from, for rate limits and the audit log. An IPv4 client reached over an
// IPv6 socket (`::ffff:127.0.0.1`) is the IPv4 client; an IPv6 client is limited by its /64,
// the smallest block a provider hands one subscriber, so rotating through the 2^64 addresses of
// one's own network does not buy fresh limits.
import ipaddr from "ipaddr.js";
import type { RequestMeta } from "./deps";

/** The address as the audit log and the session list show it: IPv4-mapped IPv6 unwrapped. */
export function canonicalIp(raw: string): string {
  if (!ipaddr.isValid(raw)) return raw;
  return ipaddr.process(raw).toString();
}

/** The key every per-address rate limit counts under. */
export function ipRateKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === "ipv4") return address.toString();
  const network = (address as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `${network.join(":")}::/64`;
}

/** The canonical forms of the addresses seen lately: parsing one costs more than the query of a list. */
const seen = new Map<string, { ip: string; ipKey: string }>();
const SEEN_MAX = 4096;

export function requestMeta({ ip, userAgent }: { ip: string; userAgent: string | null }): RequestMeta {
  let forms = seen.get(ip);
  if (!forms) {
    const canonical = canonicalIp(ip);
    forms = { ip: canonical, ipKey: ipRateKey(canonical) };
    if (seen.size >= SEEN_MAX) seen.clear();
    seen.set(ip, forms);
  }
  return { ...forms, userAgent };
}
