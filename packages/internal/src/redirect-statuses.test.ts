import { describe, expect, it } from 'vitest';

import { locationText } from './redirect-statuses.ts';

/** a header value as a runtime with ByteString headers gives it: one character per byte. */
const asBytes = (text: string): string => String.fromCharCode(...new TextEncoder().encode(text));

describe('locationText', () => {
	it('gives back ASCII and percent-encoded values as they are', () => {
		for (const value of ['/a/b?c=d#e', '/caf%C3%A9', 'https://example.com/%23x']) {
			expect(locationText(value)).toBe(value);
		}
	});

	it('reads a value of raw UTF-8 bytes as UTF-8, as fetch does', () => {
		expect(locationText(asBytes('/blobs/café'))).toBe('/blobs/café');
		expect(new URL(locationText(asBytes('/blobs/café')), 'https://pds.test').pathname).toBe(
			'/blobs/caf%C3%A9',
		);
	});

	// a runtime whose headers were decoded already gives `é` as U+00E9, which is no UTF-8 byte run
	it('gives back a value already decoded, or bytes that are no UTF-8, as they are', () => {
		expect(locationText('/blobs/café')).toBe('/blobs/café');
		expect(locationText('/blobs/日本')).toBe('/blobs/日本');
		expect(locationText('/x\xff\xfe')).toBe('/x\xff\xfe');
	});
});
