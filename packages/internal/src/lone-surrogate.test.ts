import { describe, expect, it } from 'vitest';

import { hasLoneSurrogate } from './lone-surrogate.ts';

describe('hasLoneSurrogate', () => {
	it('finds half a pair anywhere, high or low', () => {
		for (const text of ['\ud800', '\udc00', 'a\ud800b', 'a\udfff', '\ud83d\ude00\ud83d', '\ude00\ud83d'])
			expect(hasLoneSurrogate(text)).toBe(true);
	});

	it('passes whole pairs and text without surrogates', () => {
		for (const text of ['', 'did:plc:abc', '\ufffd', '\ud83d\ude00', 'x\ud83d\ude00y\ud83d\ude00'])
			expect(hasLoneSurrogate(text)).toBe(false);
	});

	it('agrees with what UTF-8 keeps: a text it is true for does not survive the round trip', () => {
		for (const text of ['\ud800', 'a\udc00', '\ud83d\ude00', 'plain']) {
			const survives = new TextDecoder().decode(new TextEncoder().encode(text)) === text;
			expect(hasLoneSurrogate(text)).toBe(!survives);
		}
	});
});
