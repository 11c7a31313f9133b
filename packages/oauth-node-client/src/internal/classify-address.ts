import type { BlockList } from 'node:net';

import { ipv6Groups } from './ipv6-groups.ts';
import { isIP, nodeBuiltin } from './node-builtin.ts';

/** the kinds of address outside the public internet the transport refuses. */
export type AddressKind =
	| 'unspecified'
	| 'loopback'
	| 'private'
	| 'shared'
	| 'link-local'
	| 'unique-local'
	| 'multicast'
	| 'reserved';

// one list per kind, so the error can say which. BlockList matches IPv4-mapped IPv6 addresses
// (::ffff:10.0.0.1) against the IPv4 ranges itself.
// @see https://www.iana.org/assignments/iana-ipv4-special-registry/
// @see https://www.iana.org/assignments/iana-ipv6-special-registry/
const RANGES: ReadonlyArray<readonly [AddressKind, ReadonlyArray<readonly [string, number]>]> = [
	[
		'unspecified',
		[
			['0.0.0.0', 8],
			['::', 128],
		],
	],
	[
		'loopback',
		[
			['127.0.0.0', 8],
			['::1', 128],
		],
	],
	[
		'private',
		[
			['10.0.0.0', 8],
			['172.16.0.0', 12],
			['192.168.0.0', 16],
		],
	],
	// carrier-grade NAT: not the public internet, and cloud providers put internal services there
	['shared', [['100.64.0.0', 10]]],
	// 169.254.169.254 is the cloud metadata endpoint, the classic SSRF target
	[
		'link-local',
		[
			['169.254.0.0', 16],
			['fe80::', 10],
		],
	],
	[
		'unique-local',
		[
			['fc00::', 7],
			['fec0::', 10],
		],
	],
	[
		'multicast',
		[
			['224.0.0.0', 4],
			['ff00::', 8],
		],
	],
	[
		'reserved',
		[
			['192.0.0.0', 24],
			['192.0.2.0', 24],
			['198.18.0.0', 15],
			['198.51.100.0', 24],
			['203.0.113.0', 24],
			['240.0.0.0', 4],
			['2001:db8::', 32],
			// the second documentation prefix (RFC 9637) and SRv6 segment identifiers (RFC 9602)
			['3fff::', 20],
			['5f00::', 16],
			['100::', 64],
			// RFC 7915 IPv4-translated (SIIT): a translator turns it into the IPv4 address it ends in
			['::ffff:0:0:0', 96],
			// Teredo tunnels, benchmarking, and the retired ORCHID: no server is reached there
			['2001::', 32],
			['2001:2::', 48],
			['2001:10::', 28],
			// RFC 8215 local-use NAT64: a translator on the host's own network, which can reach its
			// private IPv4 addresses; where the IPv4 address sits depends on the operator's prefix
			// length, so the whole /48 is refused rather than decoded
			['64:ff9b:1::', 48],
		],
	],
];

// built on the first check, with node:net (see nodeBuiltin)
let lists: ReadonlyArray<readonly [AddressKind, BlockList]> | undefined;
const listsOf = (): ReadonlyArray<readonly [AddressKind, BlockList]> => {
	lists ??= RANGES.map(([kind, ranges]) => {
		const list = new (nodeBuiltin('node:net').BlockList)();
		for (const [network, prefix] of ranges) {
			list.addSubnet(network, prefix, network.includes(':') ? 'ipv6' : 'ipv4');
		}
		return [kind, list] as const;
	});
	return lists;
};

/** the dotted IPv4 address two 16-bit groups hold. */
const ipv4Of = (high: number, low: number): string => `${high >>> 8}.${high & 255}.${low >>> 8}.${low & 255}`;

/**
 * the IPv4 address an IPv6 address carries inside it (6to4, NAT64, IPv4-mapped and -compatible),
 * if any. read from all eight groups, never from the text: `::` may hide any of them (2002:a00::1
 * is 6to4 for 10.0.0.0), and a prefix test on the text misses a form written out in full.
 */
const embeddedIpv4 = (address: string): string | undefined => {
	const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0] = ipv6Groups(address);
	// 2002::/16 (6to4): the IPv4 address is the next 32 bits
	if (a === 0x2002) return ipv4Of(b, c);
	// 64:ff9b::/96 (NAT64): the last 32 bits. the rest of 64:ff9b::/32 (but the local-use /48,
	// refused above) is unassigned and read the same way: no spelling of the prefix passes
	if (a === 0x64 && b === 0xff9b) return ipv4Of(g, h);
	// ::/96 (IPv4-compatible, deprecated) and ::ffff:0:0/96 (IPv4-mapped): the last 32 bits
	if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && (f === 0 || f === 0xffff)) {
		return ipv4Of(g, h);
	}
	return undefined;
};

/**
 * what kind of non-public address `address` (an IP literal) is, or undefined for a public one.
 * mapped, NAT64, 6to4 and IPv4-compatible IPv6 forms are judged by the IPv4 address they carry.
 */
export const classifyAddress = (zoned: string): AddressKind | undefined => {
	const family = isIP(zoned);
	if (family === 0) return undefined;
	// a zone id (`fe80::1%eth0`) names an interface, not part of the address: `isIP` takes one with
	// colons in it, which would be read as more groups, moving the IPv4 address a NAT64 form carries
	const address = family === 6 ? zoned.replace(/%.*$/, '') : zoned;
	const type = family === 6 ? 'ipv6' : 'ipv4';
	for (const [kind, list] of listsOf()) {
		if (list.check(address, type)) return kind;
	}
	if (family === 6) {
		const inner = embeddedIpv4(address);
		if (inner !== undefined) return isIP(inner) === 4 ? classifyAddress(inner) : 'reserved';
		// public unicast is 2000::/3 alone: what is left outside it, past the ranges above, is
		// reserved by the IETF (::/8 beyond the forms read above, 4000::/2, ...): nothing to reach
		if (ipv6Groups(address)[0]! >>> 13 !== 1) return 'reserved';
	}
	return undefined;
};
