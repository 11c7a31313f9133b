import { base64url, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';

import {
	CLIENT_ASSERTION_TYPE,
	type ClientAssertionOptions,
	createClientAssertion,
} from './create-client-assertion.ts';
import { generatePrivateKey } from './generate-private-key.ts';
import { Keyset } from './keyset.ts';
import type { PrivateKey } from './private-key.ts';
import { withSigner } from './signing-key.ts';

const CLIENT_ID = 'https://app.example.com/oauth-client-metadata.json';
const AUDIENCE = 'https://auth.example.com';
// a fixed clock with a sub-second part, to check that iat is floored
const NOW_MS = 1_700_000_000_987;
const NOW_S = 1_700_000_000;

/** verifies `jwt` with jose against the key as published in a keyset, and returns its claims. */
const verify = async (jwt: string, key: PrivateKey, nowMs = NOW_MS) => {
	const [published] = new Keyset([key]).publicJwks.keys;
	const publicKey = await importJWK(published!, key.alg);
	const { payload, protectedHeader } = await jwtVerify(jwt, publicKey, {
		algorithms: [key.alg],
		currentDate: new Date(nowMs),
	});
	return { payload, protectedHeader };
};

const es256 = await generatePrivateKey('client-key', 'ES256');

describe('createClientAssertion', () => {
	it('uses the RFC 7523 client assertion type', () => {
		expect(CLIENT_ASSERTION_TYPE).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
	});

	it('makes an ES256 assertion that jose verifies against the published key', async () => {
		const jwt = await createClientAssertion(es256, {
			clientId: CLIENT_ID,
			audience: AUDIENCE,
			now: () => NOW_MS,
		});
		const { payload, protectedHeader } = await verify(jwt, es256);

		expect(protectedHeader).toEqual({ alg: 'ES256', kid: 'client-key', typ: 'JWT' });
		expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'ES256', kid: 'client-key', typ: 'JWT' });

		expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sub']);
		expect(payload.iss).toBe(CLIENT_ID);
		expect(payload.sub).toBe(CLIENT_ID);
		expect(payload.aud).toBe(AUDIENCE);
		expect(payload.iat).toBe(NOW_S);
		expect(payload.exp).toBe(NOW_S + 60);
		expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{22,}$/);
	});

	it('does not verify against another key', async () => {
		const other = await generatePrivateKey('client-key', 'ES256');
		const jwt = await createClientAssertion(es256, {
			clientId: CLIENT_ID,
			audience: AUDIENCE,
			now: () => NOW_MS,
		});
		await expect(verify(jwt, other)).rejects.toThrow();
	});

	it('uses the current time when no clock is given', async () => {
		const before = Math.floor(Date.now() / 1000);
		const jwt = await createClientAssertion(es256, { clientId: CLIENT_ID, audience: AUDIENCE });
		const after = Math.floor(Date.now() / 1000);
		const { payload } = await verify(jwt, es256, Date.now());
		expect(payload.iat).toBeGreaterThanOrEqual(before);
		expect(payload.iat).toBeLessThanOrEqual(after);
		expect(payload.exp).toBe(payload.iat! + 60);
	});

	it('gives every assertion a fresh jti', async () => {
		const options = { clientId: CLIENT_ID, audience: AUDIENCE, now: () => NOW_MS };
		const jtis = new Set<unknown>();
		for (let i = 0; i < 5; i++) {
			const { payload } = await verify(await createClientAssertion(es256, options), es256);
			jtis.add(payload.jti);
		}
		expect(jtis.size).toBe(5);
	});

	it('sets exp to iat + lifetime when a lifetime is given', async () => {
		for (const lifetime of [1, 120, 300]) {
			const jwt = await createClientAssertion(es256, {
				clientId: CLIENT_ID,
				audience: AUDIENCE,
				lifetime,
				now: () => NOW_MS,
			});
			const { payload } = await verify(jwt, es256);
			expect(payload.iat).toBe(NOW_S);
			expect(payload.exp).toBe(NOW_S + lifetime);
		}
	});

	it('makes an assertion jose rejects once it has expired', async () => {
		const jwt = await createClientAssertion(es256, {
			clientId: CLIENT_ID,
			audience: AUDIENCE,
			now: () => NOW_MS,
		});
		await expect(verify(jwt, es256, NOW_MS + 61_000)).rejects.toThrow(/exp/);
	});

	for (const lifetime of [0, -1, 0.5, 301, Number.NaN, Number.POSITIVE_INFINITY]) {
		it(`rejects a lifetime of ${lifetime} with a TypeError`, async () => {
			await expect(
				createClientAssertion(es256, { clientId: CLIENT_ID, audience: AUDIENCE, lifetime }),
			).rejects.toThrow(TypeError);
		});
	}

	for (const value of [
		Number.NaN,
		Number.POSITIVE_INFINITY,
		Number.NEGATIVE_INFINITY,
		1e20,
		-1000,
		'1700000000000',
	]) {
		it(`rejects a clock returning ${typeof value === 'string' ? 'a string' : value} with a TypeError naming the clock`, async () => {
			const now = (() => value) as () => number;
			await expect(
				createClientAssertion(es256, { clientId: CLIENT_ID, audience: AUDIENCE, now }),
			).rejects.toThrow(/^client assertion clock \(options\.now\) must return milliseconds since the epoch/);
		});
	}

	it('accepts the epoch itself as the clock', async () => {
		const jwt = await createClientAssertion(es256, { clientId: CLIENT_ID, audience: AUDIENCE, now: () => 0 });
		const { payload } = await verify(jwt, es256, 0);
		expect(payload.iat).toBe(0);
		expect(payload.exp).toBe(60);
	});

	for (const value of ['', undefined]) {
		for (const name of ['clientId', 'audience'] as const) {
			it(`rejects ${value === '' ? 'an empty' : 'a missing'} ${name} with a TypeError naming it`, async () => {
				const options = { clientId: CLIENT_ID, audience: AUDIENCE, [name]: value };
				await expect(createClientAssertion(es256, options as ClientAssertionOptions)).rejects.toThrow(
					new TypeError(
						`client assertion ${name} must be a non-empty string, got ${value === '' ? 'an empty string' : 'undefined'}`,
					),
				);
			});
		}
	}

	it('names each key in its own header, for keys of the same algorithm', async () => {
		const a = await generatePrivateKey('key-a', 'ES256');
		const b = await generatePrivateKey('key-b', 'ES256');
		const options = { clientId: CLIENT_ID, audience: AUDIENCE, now: () => NOW_MS };
		for (let i = 0; i < 2; i++) {
			expect(decodeProtectedHeader(await createClientAssertion(a, options)).kid).toBe('key-a');
			expect(decodeProtectedHeader(await createClientAssertion(b, options)).kid).toBe('key-b');
		}
	});

	it('signs through a replaced signer', async () => {
		const fake = new Uint8Array([1, 2, 3, 4]);
		const key = withSigner(es256, () => () => fake);
		const jwt = await createClientAssertion(key, { clientId: CLIENT_ID, audience: AUDIENCE });
		expect(jwt.split('.')[2]).toBe(base64url.encode(fake));
	});

	for (const alg of ['RS256', 'PS256', 'ES384'] as const) {
		it(`makes a ${alg} assertion that jose verifies`, async () => {
			const key = await generatePrivateKey(`key-${alg}`, alg);
			const jwt = await createClientAssertion(key, {
				clientId: CLIENT_ID,
				audience: AUDIENCE,
				now: () => NOW_MS,
			});
			const { payload, protectedHeader } = await verify(jwt, key);
			expect(protectedHeader).toEqual({ alg, kid: `key-${alg}`, typ: 'JWT' });
			expect(payload).toMatchObject({
				iss: CLIENT_ID,
				sub: CLIENT_ID,
				aud: AUDIENCE,
				iat: NOW_S,
				exp: NOW_S + 60,
			});
			expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{22,}$/);
		});
	}

	it('makes an assertion jose verifies with the key negotiated from a keyset', async () => {
		const rs256 = await generatePrivateKey('rsa', 'RS256');
		const keyset = new Keyset([rs256, es256]);
		const key = keyset.negotiate(['RS256']);
		const jwt = await createClientAssertion(key, {
			clientId: CLIENT_ID,
			audience: AUDIENCE,
			now: () => NOW_MS,
		});

		const published = keyset.publicJwks.keys.find((jwk) => jwk.kid === decodeProtectedHeader(jwt).kid);
		expect(published?.alg).toBe('RS256');
		const { payload } = await jwtVerify(jwt, await importJWK(published!, 'RS256'), {
			algorithms: ['RS256'],
			issuer: CLIENT_ID,
			subject: CLIENT_ID,
			audience: AUDIENCE,
			currentDate: new Date(NOW_MS),
		});
		expect(payload.iat).toBe(NOW_S);
	});
});
