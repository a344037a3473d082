import { BlockList, isIP } from "node:net";
import type { Cidr } from "../config/config.js";

/** Whether a peer's address is in one of the trusted networks. */
export type PeerFilter = (address: string | undefined) => boolean;

/**
 * Matches addresses against `cidrs` (Node's BlockList, used as an allow list). An IPv4 peer on a
 * dual-stack socket shows as IPv4-mapped IPv6 (`::ffff:10.1.2.3`) and matches the IPv4 networks;
 * an address that is no IP (a closed socket has none) matches nothing.
 */
export function createPeerFilter(cidrs: readonly Cidr[]): PeerFilter {
  const trusted = new BlockList();
  for (const { address, prefix, family } of cidrs) trusted.addSubnet(address, prefix, family);
  return (address) => {
    if (address === undefined) return false;
    const version = isIP(address);
    if (version === 0) return false;
    try {
      return trusted.check(address, version === 4 ? "ipv4" : "ipv6");
    } catch {
      // An address BlockList cannot read (an IPv6 zone such as `%eth0`) is no trusted peer.
      return false;
    }
  };
}
