// The internal door's peer check (src/config/cidr.ts parses INTERNAL_TRUSTED_CIDRS,
// src/transport/trusted-peers.ts matches addresses): IPv4, IPv6, and IPv4 peers as a dual-stack
// socket shows them, IPv4-mapped IPv6.
import { describe, expect, it } from "vitest";
import { DEFAULT_TRUSTED_CIDRS, parseCidr } from "../../src/config/cidr.js";
import type { Cidr } from "../../src/config/config.js";
import { createPeerFilter } from "../../src/transport/trusted-peers.js";

const cidrs = (...texts: string[]): Cidr[] =>
  texts.map((text) => {
    const cidr = parseCidr(text);
    if (cidr === undefined) throw new Error(`not a CIDR: ${text}`);
    return cidr;
  });

describe("parseCidr", () => {
  it.each([
    ["10.0.0.0/8", { family: "ipv4", address: "10.0.0.0", prefix: 8 }],
    ["fd00::/8", { family: "ipv6", address: "fd00::", prefix: 8 }],
    ["192.168.1.7", { family: "ipv4", address: "192.168.1.7", prefix: 32 }],
    ["::1", { family: "ipv6", address: "::1", prefix: 128 }],
    [" 0.0.0.0/0 ", { family: "ipv4", address: "0.0.0.0", prefix: 0 }],
  ])("reads %s", (text, expected) => {
    expect(parseCidr(text)).toEqual(expected);
  });

  it.each([
    "10.0.0.0/33",
    "::/129",
    "10.0.0/8",
    "10.0.0.0/",
    "10.0.0.0/8/8",
    "10.0.0.0/-1",
    "10.0.0.0/ 8",
    "example.com/8",
    "",
  ])("refuses %j", (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
});

describe("the peer filter", () => {
  const trusted = createPeerFilter(cidrs(...DEFAULT_TRUSTED_CIDRS));

  it.each([
    ["loopback", "127.0.0.1"],
    ["loopback, elsewhere in 127/8", "127.5.6.7"],
    ["IPv6 loopback", "::1"],
    ["IPv4-mapped loopback", "::ffff:127.0.0.1"],
    ["10/8", "10.200.0.3"],
    ["172.16/12 (Docker's networks)", "172.18.0.5"],
    ["172.16/12's last address", "172.31.255.255"],
    ["192.168/16", "192.168.0.10"],
    ["IPv4-mapped 10/8", "::ffff:10.1.2.3"],
    ["IPv4-mapped in hex", "::ffff:a01:203"],
    ["IPv6 unique local", "fd12:3456::1"],
  ])("admits by default: %s (%s)", (_, address) => {
    expect(trusted(address)).toBe(true);
  });

  it.each([
    ["a public IPv4", "8.8.8.8"],
    ["just outside 172.16/12", "172.32.0.1"],
    ["just below 172.16/12", "172.15.255.255"],
    ["a public IPv6", "2001:db8::1"],
    ["IPv4-mapped public", "::ffff:8.8.8.8"],
    ["link-local", "fe80::1"],
    ["a zone-scoped link-local", "fe80::1%eth0"],
    ["no address (a socket already closed)", undefined],
    ["not an address", "localhost"],
  ])("refuses by default: %s", (_, address) => {
    expect(trusted(address)).toBe(false);
  });

  it("matches only the networks it was given", () => {
    const onlyTen = createPeerFilter(cidrs("10.0.0.0/8"));

    expect(onlyTen("10.0.0.1")).toBe(true);
    expect(onlyTen("::ffff:10.0.0.1")).toBe(true);
    expect(onlyTen("127.0.0.1")).toBe(false);
    expect(onlyTen("::ffff:127.0.0.1")).toBe(false);
    expect(onlyTen("::1")).toBe(false);
  });

  it("matches a single host and an IPv6 prefix exactly", () => {
    const filter = createPeerFilter(cidrs("192.0.2.10", "2001:db8:1::/48"));

    expect(filter("192.0.2.10")).toBe(true);
    expect(filter("192.0.2.11")).toBe(false);
    expect(filter("2001:db8:1:ffff::1")).toBe(true);
    expect(filter("2001:db8:2::1")).toBe(false);
  });
});
