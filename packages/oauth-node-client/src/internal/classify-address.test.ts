import { describe, expect, it } from 'vitest';

import { classifyAddress } from './classify-address.ts';

describe('classifyAddress', () => {
	it.each([
		['127.0.0.1', 'loopback'],
		['127.255.0.9', 'loopback'],
		['::1', 'loopback'],
		['0.0.0.0', 'unspecified'],
		['::', 'unspecified'],
		['10.2.3.4', 'private'],
		['172.16.0.1', 'private'],
		['172.31.255.255', 'private'],
		['192.168.1.1', 'private'],
		['100.64.0.1', 'shared'],
		// the whole of 100.64.0.0/10, to its last address: Alibaba Cloud's metadata service is in it
		['100.100.100.200', 'shared'],
		['100.127.255.255', 'shared'],
		['169.254.169.254', 'link-local'],
		['fe80::1', 'link-local'],
		// fe80::/10 reaches as far as febf::
		['febf::1', 'link-local'],
		['fd12:3456::1', 'unique-local'],
		['fc00::', 'unique-local'],
		['fec0::1', 'unique-local'],
		['224.0.0.1', 'multicast'],
		// the whole of 224.0.0.0/4: SSDP's address is at its far end
		['239.255.255.250', 'multicast'],
		['ff02::1', 'multicast'],
		['255.255.255.255', 'reserved'],
		['192.0.2.1', 'reserved'],
		['198.18.0.1', 'reserved'],
		['198.19.255.255', 'reserved'],
		// IPv4-mapped IPv6, in both notations
		['::ffff:127.0.0.1', 'loopback'],
		['::ffff:7f00:1', 'loopback'],
		['::ffff:a9fe:a9fe', 'link-local'],
		['::FFFF:10.0.0.1', 'private'],
		// IPv6 forms that carry an IPv4 address: NAT64, 6to4, IPv4-compatible
		['64:ff9b::a00:1', 'private'],
		['64:ff9b::127.0.0.1', 'loopback'],
		['2002:a9fe:a9fe::1', 'link-local'],
		['::127.0.0.1', 'loopback'],
		// the embedded IPv4 address read from the expanded address, however `::` compressed it
		['2002:7f00::1', 'loopback'],
		['2002:7f01::1', 'loopback'],
		['2002:7f00::', 'loopback'],
		['2002:a00::1', 'private'],
		['2002:a00:0:1::', 'private'],
		['2002:c0a8::1', 'private'],
		['2002:a9fe::1', 'link-local'],
		['2002:6440::1', 'shared'],
		['2002::1', 'unspecified'],
		['2002::', 'unspecified'],
		['64:ff9b::', 'unspecified'],
		['64:ff9b::1', 'unspecified'],
		['64:ff9b:0:0:0:0:7f00:1', 'loopback'],
		['0064:ff9b:0000::a00:1', 'private'],
		['0:0:0:0:0:0:7f00:1', 'loopback'],
		['0::a00:1', 'private'],
		['0:0:0:0:0:ffff:a9fe:a9fe', 'link-local'],
		['::ffff:0.0.0.0', 'unspecified'],
		// local-use NAT64 (RFC 8215), whatever it carries: a private translator's prefix
		['64:ff9b:1::a9fe:a9fe', 'reserved'],
		['64:ff9b:1:ffff::808:808', 'reserved'],
		// IPv4-translated (SIIT), Teredo, benchmarking, retired ORCHID
		['::ffff:0:a00:1', 'reserved'],
		['::ffff:0:808:808', 'reserved'],
		['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
		['2001:2::1', 'reserved'],
		['2001:10::1', 'reserved'],
		['3fff:fff::1', 'reserved'],
		['5f00::1', 'reserved'],
		// outside 2000::/3 and the forms that carry an IPv4 address: reserved, whatever they end in
		['::1:0:0:7f00:1', 'reserved'],
		['::fffe:a9fe:a9fe', 'reserved'],
		['::1:0:0:0:0', 'reserved'],
		['4000::1', 'reserved'],
		['e000::1', 'reserved'],
		['1::1', 'reserved'],
	])('%s is %s', (address, kind) => {
		expect(classifyAddress(address)).toBe(kind);
	});

	it.each([
		'8.8.8.8',
		'1.1.1.1',
		'172.32.0.1',
		'172.15.255.255',
		'100.128.0.1',
		'169.255.0.1',
		'2606:4700:4700::1111',
		// public addresses beside those ranges: Google's public DNS, and ORCHIDv2 (which is routed)
		'2001:4860:4860::8888',
		'2001:20::1',
		'::ffff:8.8.8.8',
		'64:ff9b::808:808',
		'2002:808:808::',
		'2002:808:808::1',
		'2002:808:808:1::',
		'0:0:0:0:0:ffff:808:808',
		'64:ff9b:0:0:0:0:808:808',
	])('%s is public', (address) => {
		expect(classifyAddress(address)).toBeUndefined();
	});

	it('judges only IP literals', () => {
		expect(classifyAddress('localhost')).toBeUndefined();
	});
});
