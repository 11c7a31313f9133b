import { describe, expect, it } from 'vitest';

import { classifyAddress } from './classify-address.ts';

// hardening, not a reachable bypass: `isIP` accepts a zone id of letters, digits, `-`, `.` and `:`,
// which `ipv6Groups` would read as more groups, shifting where NAT64 keeps its IPv4 address
describe('classifyAddress: zone ids', () => {
	it.each([
		['64:ff9b::a00:1%0:808:808', 'private'],
		['64:ff9b::7f00:1%x:808:808', 'loopback'],
		['::ffff:a00:1%a:8.8.8.8', 'private'],
		['fe80::1%eth0', 'link-local'],
	])('judges %s by the address, not its zone (%s)', (address, kind) => {
		expect(classifyAddress(address)).toBe(kind);
	});
});
