import { describe, expect, it } from 'vitest';

import { rawHeadersOf } from './raw-headers-of.ts';

describe('rawHeadersOf', () => {
	it("is node:http's rawHeaders when it has them, as they came", () => {
		const rawHeaders = ['Content-Type', 'application/json', 'DPoP-Nonce', 'n1'];
		expect(rawHeadersOf({ rawHeaders, headers: { 'content-type': 'text/plain' } })).toBe(rawHeaders);
	});

	it('makes the list from headers when an emulated node:http fills only those (workerd)', () => {
		const headers = {
			'content-type': 'application/json',
			location: '/next',
			'set-cookie': ['a=1', 'b=2'],
			'x-missing': undefined,
		};
		expect(rawHeadersOf({ rawHeaders: [], headers })).toEqual([
			'content-type',
			'application/json',
			'location',
			'/next',
			'set-cookie',
			'a=1',
			'set-cookie',
			'b=2',
		]);
	});

	it('is empty for a response without headers', () => {
		expect(rawHeadersOf({ rawHeaders: [], headers: {} })).toEqual([]);
	});
});
