import { describe, expect, it } from 'vitest';

import { ipv6Groups } from './ipv6-groups.ts';

describe('ipv6Groups', () => {
	it.each([
		['::', [0, 0, 0, 0, 0, 0, 0, 0]],
		['::1', [0, 0, 0, 0, 0, 0, 0, 1]],
		['2002::', [0x2002, 0, 0, 0, 0, 0, 0, 0]],
		['2002:a00::1', [0x2002, 0xa00, 0, 0, 0, 0, 0, 1]],
		['64:ff9b::7f00:1', [0x64, 0xff9b, 0, 0, 0, 0, 0x7f00, 1]],
		['::ffff:10.0.0.1', [0, 0, 0, 0, 0, 0xffff, 0xa00, 1]],
		['1:2:3:4:5:6:7:8', [1, 2, 3, 4, 5, 6, 7, 8]],
		['1:2:3:4:5:6:1.2.3.4', [1, 2, 3, 4, 5, 6, 0x102, 0x304]],
	])('%s', (address, groups) => {
		expect(ipv6Groups(address)).toEqual(groups);
	});
});
