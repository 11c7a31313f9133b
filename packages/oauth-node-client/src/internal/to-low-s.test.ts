import { describe, expect, it } from 'vitest';

import { toLowS } from './to-low-s.ts';

const ORDER = BigInt('0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141');
const bytes = (value: bigint) => Uint8Array.from(Buffer.from(value.toString(16).padStart(64, '0'), 'hex'));
const signature = (r: bigint, s: bigint) => Uint8Array.from([...bytes(r), ...bytes(s)]);

describe('toLowS', () => {
	const r = 0x1234n;

	it('keeps a signature whose s is at most half the order, as it is', () => {
		for (const s of [1n, 0xffn, ORDER / 2n]) {
			const low = signature(r, s);
			expect(toLowS(low)).toBe(low);
		}
	});

	it('replaces a high s by n − s, keeping r and leaving the input untouched (a Buffer too)', () => {
		for (const s of [ORDER / 2n + 1n, ORDER - 1n, ORDER - 0x100n]) {
			for (const high of [signature(r, s), Buffer.from(signature(r, s))]) {
				const copy = Uint8Array.from(high);
				expect(Uint8Array.from(toLowS(high))).toEqual(signature(r, ORDER - s));
				expect(Uint8Array.from(high)).toEqual(copy);
			}
		}
	});
});
