import { describe, expect, it } from 'vitest';

import { fromNodeSavedSession, fromNodeSavedState, toNodeSavedSession } from './index.ts';

// a secp256k1 key's members (a key made for this test only)
const EC_KEY = {
	kty: 'EC',
	crv: 'secp256k1',
	x: 'Wt2kV0iSZuo6aeNvhJk-cA4MRvRI7wnj9bWxG3O9gYE',
	y: 'N8W1Xg5fDTQu8dG2N0P6yE5H9Q3dn8Ih4lTg1TTD8bY',
	d: 'hGM9fhMqnvX8vE-9U1U1Zq7yGzT8eCw5M7yPZL3jSeI',
};

/** a saved session as a store may hold it: any member missing or of another type. */
interface LooseSaved {
	dpopJwk: Record<string, unknown>;
	authMethod?: Record<string, unknown>;
	tokenSet: Record<string, unknown>;
}

/** what @atproto/oauth-client-node 0.3 stores for an account (its NodeSavedSession), as JSON. */
const saved = (): LooseSaved => ({
	dpopJwk: { ...EC_KEY },
	authMethod: { method: 'private_key_jwt', kid: 'main' },
	tokenSet: {
		iss: 'https://bsky.social',
		sub: 'did:plc:alice',
		aud: 'https://pds.example/',
		scope: 'atproto transition:generic',
		access_token: 'at-1',
		refresh_token: 'rt-1',
		token_type: 'DPoP',
		expires_at: '2026-12-06T18:00:00.000Z',
	},
});

const messageOf = (fn: () => unknown): string => {
	try {
		fn();
	} catch (err) {
		expect(err).toBeInstanceOf(TypeError);
		return (err as Error).message;
	}
	throw new Error('did not throw');
};

describe('fromNodeSavedSession', () => {
	it('converts the stored session: the key with its algorithm, the expiry in milliseconds', () => {
		expect(fromNodeSavedSession(saved())).toEqual({
			dpopKey: { ...EC_KEY, alg: 'ES256K' },
			authMethod: { method: 'private_key_jwt', kid: 'main' },
			tokenSet: {
				iss: 'https://bsky.social',
				sub: 'did:plc:alice',
				aud: 'https://pds.example/',
				scope: 'atproto transition:generic',
				access_token: 'at-1',
				refresh_token: 'rt-1',
				token_type: 'DPoP',
				expires_at: Date.parse('2026-12-06T18:00:00.000Z'),
			},
		});
	});

	it('names the algorithm of each curve, keeps key members only, and takes a session without expiry or refresh token', () => {
		for (const [crv, alg] of [
			['P-256', 'ES256'],
			['P-384', 'ES384'],
			['P-521', 'ES512'],
		] as const) {
			const value = saved();
			value.dpopJwk = { ...EC_KEY, crv, kid: 'dpop', use: 'sig', key_ops: ['sign'], ext: true };
			delete value.tokenSet.expires_at;
			delete value.tokenSet.refresh_token;
			const { dpopKey, tokenSet } = fromNodeSavedSession(value);
			expect(dpopKey).toEqual({ ...EC_KEY, crv, alg });
			expect(tokenSet).not.toHaveProperty('expires_at');
			expect(tokenSet).not.toHaveProperty('refresh_token');
		}
		const rsa = saved();
		const members = { kty: 'RSA', n: 'n', e: 'AQAB', d: 'd', p: 'p', q: 'q', dp: 'dp', dq: 'dq', qi: 'qi' };
		rsa.dpopJwk = { ...members, alg: 'PS256', kid: 'x' };
		expect(fromNodeSavedSession(rsa).dpopKey).toEqual({ ...members, alg: 'PS256' });
		const none = saved();
		none.authMethod = { method: 'none' };
		expect(fromNodeSavedSession(none).authMethod).toEqual({ method: 'none' });
	});

	it('takes the authentication method from the options for a session stored without one', () => {
		const value = saved();
		delete value.authMethod;
		expect(messageOf(() => fromNodeSavedSession(value))).toContain('authMethod is missing');
		const authMethod = { method: 'private_key_jwt', kid: 'first' } as const;
		expect(fromNodeSavedSession(value, { authMethod }).authMethod).toEqual(authMethod);
		// the stored one wins
		expect(fromNodeSavedSession(saved(), { authMethod }).authMethod).toEqual({
			method: 'private_key_jwt',
			kid: 'main',
		});
	});

	it('refuses what it cannot use, naming the member and never a secret', () => {
		const cases: [string, (value: ReturnType<typeof saved>) => void, string][] = [
			['not an object', () => undefined, 'the saved session is not an object'],
			['no key', (v) => delete (v as Partial<LooseSaved>).dpopJwk, 'dpopJwk is not a JWK object'],
			['a public key', (v) => delete v.dpopJwk.d, 'dpopJwk has no "d"'],
			['another curve', (v) => (v.dpopJwk.crv = 'P-192'), 'curve other than'],
			['a curve named after an object member', (v) => (v.dpopJwk.crv = 'constructor'), 'curve other than'],
			['a contradicting alg', (v) => (v.dpopJwk.alg = 'ES256'), 'is not ES256K'],
			[
				'an RSA key without alg',
				(v) => (v.dpopJwk = { kty: 'RSA', n: 'n', e: 'e', d: 'd' }),
				'RSA key without',
			],
			['an OKP key', (v) => (v.dpopJwk = { kty: 'OKP', crv: 'Ed25519', x: 'x', d: 'd' }), '"kty" is neither'],
			['a key member not a string', (v) => (v.dpopJwk.x = 42), `dpopJwk's "x" is not a string`],
			[
				'an unknown auth method',
				(v) => (v.authMethod = { method: 'client_secret_basic' } as never),
				'authMethod is neither',
			],
			[
				'a kid not a string',
				(v) => (v.authMethod = { method: 'private_key_jwt', kid: 7 } as never),
				'authMethod is neither',
			],
			['no token set', (v) => delete (v as Partial<LooseSaved>).tokenSet, 'tokenSet is not an object'],
			[
				'no access token',
				(v) => delete (v.tokenSet as Record<string, unknown>).access_token,
				'tokenSet.access_token',
			],
			[
				'a sub not a DID',
				(v) => (v.tokenSet.sub = 'alice.example'),
				'tokenSet.sub is not a did:plc or did:web DID',
			],
			['a bearer token', (v) => (v.tokenSet.token_type = 'Bearer' as never), 'token_type is not "DPoP"'],
			['an empty refresh token', (v) => (v.tokenSet.refresh_token = ''), 'tokenSet.refresh_token'],
			[
				'an expiry not a date',
				(v) => (v.tokenSet.expires_at = 'soon'),
				'tokenSet.expires_at is not an ISO date',
			],
			[
				'an expiry in milliseconds',
				(v) => (v.tokenSet.expires_at = 1_700_000_000_000 as never),
				'tokenSet.expires_at',
			],
		];
		for (const [label, change, expected] of cases) {
			const value = saved();
			change(value);
			const message = messageOf(() => fromNodeSavedSession(label === 'not an object' ? 'a string' : value));
			expect(message, label).toContain(expected);
			expect(message, label).toMatch(/^fromNodeSavedSession: /);
			for (const secret of [EC_KEY.d, 'at-1', 'rt-1']) expect(message, label).not.toContain(secret);
		}
	});
});

describe('toNodeSavedSession', () => {
	it('gives back what the official client stored, with the alg kept beside the key, and drops our own fields', () => {
		const stored = fromNodeSavedSession(saved());
		stored.tokenSet.issued_at = Date.parse('2026-12-06T17:00:00.000Z');
		stored.tokenSet.refused_on_arrival = true;
		// a session this client signed in records its client key's thumbprint, which that client's shape lacks
		stored.authMethod = {
			...stored.authMethod,
			jkt: 'hdUA1hCSbqh2UxCwSFm67uYBe0U56WHI6t3lgvbePgk',
		} as typeof stored.authMethod;
		expect(toNodeSavedSession(stored)).toEqual({ ...saved(), dpopJwk: { ...EC_KEY, alg: 'ES256K' } });
		// and round trip
		expect(fromNodeSavedSession(toNodeSavedSession(stored)).tokenSet).toEqual({
			...stored.tokenSet,
			issued_at: undefined,
			refused_on_arrival: undefined,
		});
	});

	it('refuses a session the official client could not hold: an account not on did:plc or did:web, a scope without atproto, no time', () => {
		const stored = fromNodeSavedSession(saved());
		for (const [tokenSet, expected] of [
			[{ ...stored.tokenSet, sub: 'did:key:z6Mk' }, 'tokenSet.sub is not a did:plc or did:web DID'],
			[{ ...stored.tokenSet, scope: 'transition:generic' }, 'tokenSet.scope has no "atproto"'],
			[{ ...stored.tokenSet, scope: 'xatproto' }, 'tokenSet.scope has no "atproto"'],
			[{ ...stored.tokenSet, expires_at: 1e20 }, 'tokenSet.expires_at is not a time'],
		] as const) {
			expect(() => toNodeSavedSession({ ...stored, tokenSet: tokenSet as never })).toThrow(
				new TypeError(`toNodeSavedSession: ${expected}`),
			);
		}
	});

	it('leaves out an expiry and a refresh token the session does not have', () => {
		const stored = fromNodeSavedSession(saved());
		delete stored.tokenSet.expires_at;
		delete stored.tokenSet.refresh_token;
		const back = toNodeSavedSession(stored);
		expect(back.tokenSet).not.toHaveProperty('expires_at');
		expect(back.tokenSet).not.toHaveProperty('refresh_token');
	});
});

describe('fromNodeSavedState', () => {
	/** what that client stores for a sign-in under way (its NodeSavedState), as JSON. */
	const savedState = (): Record<string, unknown> => ({
		iss: 'https://bsky.social',
		dpopJwk: { ...EC_KEY },
		authMethod: { method: 'private_key_jwt', kid: 'main' },
		verifier: 'v'.repeat(43),
		appState: '/protected',
	});
	const redirectUri = 'https://app.example/oauth/callback';

	it('converts a sign-in under way, with the redirect URI it was started with and a new expiry', () => {
		expect(fromNodeSavedState(savedState(), { redirectUri, now: () => 1_000 })).toEqual({
			issuer: 'https://bsky.social',
			dpopKey: { ...EC_KEY, alg: 'ES256K' },
			authMethod: { method: 'private_key_jwt', kid: 'main' },
			verifier: 'v'.repeat(43),
			redirectUri,
			appState: '/protected',
			expiresAt: 1_000 + 10 * 60 * 1000,
		});
		const without = savedState();
		delete without.appState;
		delete without.authMethod;
		const authMethod = { method: 'none' } as const;
		const state = fromNodeSavedState(without, { redirectUri, authMethod, ttl: 5, now: () => 0 });
		expect(state).not.toHaveProperty('appState');
		expect(state).toMatchObject({ authMethod, expiresAt: 5 });
		// an absent app state given back as null (a NULL column), as that client reads it
		const nulled = { ...savedState(), appState: null };
		expect(fromNodeSavedState(nulled, { redirectUri })).not.toHaveProperty('appState');
	});

	it('refuses what it cannot use, naming the member or option and never a secret', () => {
		const cases: [string, (value: Record<string, unknown>) => void, object, string][] = [
			['no redirect URI', () => {}, { redirectUri: undefined }, 'options.redirectUri is not a URL'],
			[
				'a redirect URI not a URL',
				() => {},
				{ redirectUri: '/callback' },
				'options.redirectUri is not a URL',
			],
			['a ttl of 0', () => {}, { ttl: 0 }, 'options.ttl is not a positive number'],
			[
				'a ttl past a day',
				() => {},
				{ ttl: 1e300 },
				'options.ttl is not a positive number of milliseconds, a day at most',
			],
			['no issuer', (v) => delete v.iss, {}, 'iss is not a URL'],
			['no verifier', (v) => delete v.verifier, {}, 'verifier is not a string'],
			['an app state not a string', (v) => (v.appState = { to: '/' }), {}, 'appState is not a string'],
			['a public key', (v) => delete (v.dpopJwk as Record<string, unknown>).d, {}, 'dpopJwk has no "d"'],
			['no auth method', (v) => delete v.authMethod, {}, 'authMethod is missing'],
		];
		for (const [label, change, options, expected] of cases) {
			const value = savedState();
			change(value);
			const message = messageOf(() => fromNodeSavedState(value, { redirectUri, ...options } as never));
			expect(message, label).toMatch(/^fromNodeSavedState: /);
			expect(message, label).toContain(expected);
			expect(message, label).not.toContain(EC_KEY.d);
			expect(message, label).not.toContain('v'.repeat(43));
		}
	});
});
