import { isIP } from "node:net";
import type { Cidr } from "./config.js";

/**
 * Parses `address/prefix` (`10.0.0.0/8`, `fd00::/8`); a bare address is a network of one
 * (`/32` or `/128`). Returns `undefined` for anything else.
 */
export function parseCidr(text: string): Cidr | undefined {
  const [address = "", prefixText, ...rest] = text.trim().split("/");
  if (rest.length > 0) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const family = version === 4 ? "ipv4" : "ipv6";
  const bits = version === 4 ? 32 : 128;
  if (prefixText === undefined) return { family, address, prefix: bits };
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix <= bits ? { family, address, prefix } : undefined;
}

/** Loopback and the private ranges (RFC 1918, RFC 4193): where a compose or cluster network lives. */
export const DEFAULT_TRUSTED_CIDRS = [
  "127.0.0.0/8",
  "::1/128",
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "fc00::/7",
] as const;
