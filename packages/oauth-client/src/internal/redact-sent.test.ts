import { describe, expect, it } from 'vitest';

import { redactSent, replaceEvery } from './redact-sent.ts';

/** a pseudo-random generator with a seed, so that a failure can be replayed. */
const seeded = (seed: number) => () => {
	seed = (seed * 1103515245 + 12345) % 2147483648;
	return seed / 2147483648;
};

describe('redactSent', () => {
	it('replaces each quoted secret, and leaves short values and other text alone', () => {
		const text = 'unknown refresh token rt-0123456789 (code abc, again rt-0123456789)';
		expect(redactSent(text, ['rt-0123456789', 'abc', 42, undefined])).toBe(
			'unknown refresh token [redacted] (code abc, again [redacted])',
		);
		expect(redactSent(text, ['not-in-the-text'])).toBe(text);
		// a secret longer than the text cannot be in it
		expect(redactSent('short', ['longer than the text'])).toBe('short');
	});

	it('replaces what replaceAll replaces, left to right and none overlapping, in linear time', () => {
		// a small alphabet makes overlaps and near misses common
		const random = seeded(7);
		const word = (length: number) => Array.from({ length }, () => 'ab'[Math.floor(random() * 2)]).join('');
		for (let round = 0; round < 3000; round++) {
			const secret = word(8 + Math.floor(random() * 6));
			const text = word(Math.floor(random() * 80));
			// with the secret placed in it now and then, overlapping itself or not
			const placed =
				random() < 0.5 ? text : `${text.slice(0, 20)}${secret}${secret.slice(3)}${text.slice(20)}`;
			expect([placed, secret, replaceEvery(placed, secret, '[redacted]')]).toEqual([
				placed,
				secret,
				placed.replaceAll(secret, '[redacted]'),
			]);
		}
	});

	it('redacts a token a server built to defeat string search, quoted in a long answer', () => {
		// a pattern that matches the text everywhere but near its start: the shape on which
		// includes() and replaceAll() take time near the product of the two lengths
		const secret = `${'a'.repeat(100)}b${'a'.repeat(15_899)}`;
		const text = `"sub": "${'a'.repeat(49_336)}", "refresh_token": "${secret}"`;
		const redacted = redactSent(text, [secret]);
		expect(redacted).toBe(`"sub": "${'a'.repeat(49_336)}", "refresh_token": "[redacted]"`);
	});
});
