import { describe, expect, it } from 'vitest';

import {
	base64Decode,
	base64Encode,
	base64urlDecode,
	base64urlEncode,
	base64urlEncodePortable,
} from './base64url.ts';

// Buffer is an independent implementation of both alphabets
const sizes = [0, 1, 2, 3, 4, 5, 31, 32, 33, 64, 0x8000 - 1, 0x8000, 0x8000 + 1, 100_000];
const bytesOf = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 131 + 7) & 0xff);

describe('base64url', () => {
	it('encodes bytes of every length as Buffer does, without padding', () => {
		for (const size of sizes) {
			const bytes = bytesOf(size);
			expect(base64urlEncode(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
			// the path for runtimes without Buffer or toBase64
			expect(base64urlEncodePortable(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
		}
	});

	it('encodes a string as its UTF-8 bytes', () => {
		const text = '{"iss":"héllo ✓ 𝄞","sub":"/+?"}';
		expect(base64urlEncode(text)).toBe(Buffer.from(text, 'utf8').toString('base64url'));
		// a view into a larger buffer: only its own bytes
		const view = new Uint8Array([1, 2, 3, 4, 5, 6]).subarray(2, 5);
		expect(base64urlEncode(view)).toBe(Buffer.from([3, 4, 5]).toString('base64url'));
	});

	it('encodes a string as TextEncoder does, lone surrogates as U+FFFD', () => {
		// the Buffer fast path for text must give the bytes the portable path gives
		for (const text of ['plain ascii', 'é ✓ 𝄞', 'lone \ud800 high', 'lone \udc00 low', '\ud83d', '']) {
			expect(base64urlEncode(text)).toBe(base64urlEncodePortable(new TextEncoder().encode(text)));
		}
	});

	it('encodes and decodes standard base64 (PEM bodies) as Buffer does', () => {
		for (const size of sizes) {
			const bytes = bytesOf(size);
			const text = Buffer.from(bytes).toString('base64');
			expect(base64Encode(bytes)).toBe(text);
			expect([...base64Decode(text)]).toEqual([...bytes]);
		}
		expect(() => base64Decode('not base64!')).toThrow();
	});

	it('decodes base64url as Buffer does, and only the exact text its encoder makes', () => {
		for (const size of sizes) {
			const bytes = bytesOf(size);
			expect([...base64urlDecode(Buffer.from(bytes).toString('base64url'))!]).toEqual([...bytes]);
		}
		for (const text of ['AQAB=', 'AQ+B', 'AQ/B', ' AQAB', 'AQA B', 'A', 'AQB', 'AR']) {
			expect(base64urlDecode(text)).toBeUndefined();
		}
	});
});
