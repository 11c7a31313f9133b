import { describe, expect, it } from 'vitest';

import { REFRESH_MARGIN_MS } from './constants.ts';
import type { TokenSet } from './stored-types.ts';
import { isStale, toTokenSet } from './token-set.ts';

const NOW = 1_800_000_000_000;

const tokenSet = (expiresInS: number | undefined, issuedAt: number | null = NOW): TokenSet => ({
	iss: 'https://as.example',
	sub: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa',
	aud: 'https://pds.example',
	scope: 'atproto',
	access_token: 'at',
	refresh_token: 'rt',
	token_type: 'DPoP',
	expires_at: expiresInS === undefined ? undefined : NOW + expiresInS * 1000,
	issued_at: issuedAt ?? undefined,
});

describe('isStale', () => {
	it('refreshes a one-hour token 60 s before it expires', () => {
		const tokens = tokenSet(3600);
		expect(isStale(tokens, NOW + 3600_000 - REFRESH_MARGIN_MS - 1)).toBe(false);
		expect(isStale(tokens, NOW + 3600_000 - REFRESH_MARGIN_MS)).toBe(true);
	});

	it.each([30, 60, 1])(
		'uses a %s s token for three quarters of its life, not stale on arrival',
		(seconds) => {
			const tokens = tokenSet(seconds);
			expect(isStale(tokens, NOW)).toBe(false);
			expect(isStale(tokens, NOW + seconds * 750 - 1)).toBe(false);
			expect(isStale(tokens, NOW + seconds * 750)).toBe(true);
		},
	);

	it('keeps the 60 s margin for a session stored without issued_at (an earlier release)', () => {
		const tokens = tokenSet(3600, null);
		expect(isStale(tokens, NOW + 3600_000 - REFRESH_MARGIN_MS)).toBe(true);
		// as before: a short token without issued_at is stale at once
		expect(isStale(tokenSet(30, null), NOW)).toBe(true);
	});

	it('keeps the 60 s margin when issued_at is not before expires_at', () => {
		const tokens = { ...tokenSet(30), issued_at: NOW + 30_000 };
		expect(isStale(tokens, NOW)).toBe(true);
	});

	it('never finds a token without expiry stale', () => {
		expect(isStale(tokenSet(undefined), Number.MAX_SAFE_INTEGER)).toBe(false);
	});
});

describe('toTokenSet', () => {
	it('records when the token arrived, beside when it expires', () => {
		const response = {
			access_token: 'at',
			token_type: 'DPoP' as const,
			sub: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa' as const,
			scope: 'atproto',
			expires_in: 30,
		};
		expect(toTokenSet(response, 'https://as.example', 'https://pds.example', NOW)).toMatchObject({
			expires_at: NOW + 30_000,
			issued_at: NOW,
		});
	});

	it('keeps the refresh token it was sent when the answer brings none', () => {
		// a server that does not rotate refresh tokens leaves the one sent valid: dropping it would
		// end the session at its next refresh
		const response = {
			access_token: 'at2',
			token_type: 'DPoP' as const,
			sub: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa' as const,
			scope: 'atproto',
			expires_in: 60,
		};
		expect(toTokenSet(response, 'https://as.example', 'https://pds.example', NOW, 'rt1').refresh_token).toBe(
			'rt1',
		);
	});
});
