import { describe, expect, it } from 'vitest';

import { InvalidResponseError } from './errors.ts';
import { MAX_EXPIRES_IN_S, parseTokenResponse } from './token-response.ts';

const valid = {
	access_token: 'at-secret',
	token_type: 'DPoP',
	sub: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz',
	scope: 'atproto transition:generic',
	refresh_token: 'rt-secret',
	expires_in: 3600,
};

describe('parseTokenResponse', () => {
	it('accepts a DPoP token response for an atproto DID, with token_type in any case', () => {
		expect(parseTokenResponse(valid)).toEqual(valid);
		expect(parseTokenResponse({ ...valid, token_type: 'dpop' }).token_type).toBe('DPoP');
		expect(parseTokenResponse({ ...valid, expires_in: MAX_EXPIRES_IN_S }).expires_in).toBe(MAX_EXPIRES_IN_S);
		// a token that expires at once: the reference server's answer in a grant's last second
		expect(parseTokenResponse({ ...valid, expires_in: 0 }).expires_in).toBe(0);
		expect(parseTokenResponse({ ...valid, sub: 'did:web:pds.example.com' }).sub).toBe(
			'did:web:pds.example.com',
		);
	});

	const refusals: [string, Record<string, unknown>, RegExp][] = [
		['a Bearer token', { token_type: 'Bearer' }, /token_type/],
		['a missing sub', { sub: undefined }, /"sub"/],
		['a sub that is not an atproto DID', { sub: 'did:key:zQ3sh' }, /"sub"/],
		// the whole sub is the DID: text after a valid one is another account's name, not this one's
		['a sub with text after its did:plc identifier', { sub: `${valid.sub}x` }, /"sub"/],
		['a did:web sub with a path', { sub: 'did:web:example.com/evil' }, /"sub"/],
		['a scope without atproto', { scope: 'transition:generic' }, /"scope" must include "atproto"/],
		['a scope that only contains atproto as a substring', { scope: 'atprotox' }, /"scope"/],
		['an empty access token', { access_token: '' }, /"access_token"/],
		['a refresh token that is not a string', { refresh_token: 42 }, /"refresh_token"/],
		// an empty refresh token would be stored, and sent back, as if it were one
		['an empty refresh token', { refresh_token: '' }, /"refresh_token"/],
		['a negative expires_in', { expires_in: -1 }, /"expires_in"/],
		['an expires_in just below 0', { expires_in: -0.001 }, /"expires_in"/],
		// JSON's 1e999 parses to Infinity
		['an infinite expires_in', { expires_in: JSON.parse('1e999') }, /"expires_in" must be a finite number/],
		// finite, but no Date can show the expiry it gives
		['an absurdly large expires_in', { expires_in: 1e300 }, /"expires_in" must be a finite number/],
		['an expires_in over 10 years', { expires_in: MAX_EXPIRES_IN_S + 1 }, /"expires_in"/],
	];
	for (const [what, change, message] of refusals) {
		it(`refuses ${what}, naming the field but no token`, () => {
			let error: unknown;
			try {
				parseTokenResponse({ ...valid, ...change });
			} catch (err) {
				error = err;
			}
			expect(error).toBeInstanceOf(InvalidResponseError);
			expect((error as Error).message).toMatch(message);
			expect((error as Error).message).not.toMatch(/secret/);
		});
	}
});
