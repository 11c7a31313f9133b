import { createHash } from 'node:crypto';

import { decodeProtectedHeader, EmbeddedJWK, type JWTPayload, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';

import { createDpopProof, toHtu } from './create-dpop-proof.ts';
import { type DpopKey, generateDpopKey } from './dpop-key.ts';

const ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'];

const verify = async (proof: string): Promise<JWTPayload> => {
	const { payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ALGORITHMS });
	return payload;
};

describe('createDpopProof', () => {
	let key: DpopKey;
	beforeAll(async () => {
		key = await generateDpopKey();
	});

	it('has a header of exactly typ dpop+jwt, the key alg and the public jwk', async () => {
		const proof = await createDpopProof(key, { htm: 'GET', htu: 'https://pds.example/xrpc/foo' });
		const header = decodeProtectedHeader(proof);
		expect(Object.keys(header).sort()).toEqual(['alg', 'jwk', 'typ']);
		expect(header.typ).toBe('dpop+jwt');
		expect(header.alg).toBe('ES256');
		expect(header.jwk).toStrictEqual({ ...key.publicJwk });
	});

	it('embeds only the public key parameters of an EC key', async () => {
		const proof = await createDpopProof(key, { htm: 'GET', htu: 'https://pds.example/xrpc/foo' });
		const { jwk } = decodeProtectedHeader(proof);
		expect(Object.keys(jwk ?? {}).sort()).toEqual(['crv', 'kty', 'x', 'y']);
		expect(jwk).not.toHaveProperty('d');
		expect(jwk).not.toHaveProperty('kid');
	});

	it('embeds only the public parameters of a key built by hand whose publicJwk is the private JWK', async () => {
		const { privateKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
			'sign',
			'verify',
		]);
		const privateJwk = await crypto.subtle.exportKey('jwk', privateKey);
		const byHand = {
			alg: 'ES256',
			publicJwk: { ...privateJwk, kid: 'k1' },
			sign: key.sign,
		} as unknown as DpopKey;
		const { jwk } = decodeProtectedHeader(
			await createDpopProof(byHand, { htm: 'GET', htu: 'https://pds.example/' }),
		);
		expect(jwk).toStrictEqual({ kty: 'EC', crv: 'P-256', x: privateJwk.x, y: privateJwk.y });
	});

	it('refuses an iat that JSON cannot carry as a time (a broken clock)', async () => {
		for (const iat of [Number.NaN, Number.POSITIVE_INFINITY, 1e20, -1, 1.5]) {
			await expect(createDpopProof(key, { htm: 'GET', htu: 'https://pds.example/', iat })).rejects.toThrow(
				/iat must be whole seconds since the epoch/,
			);
		}
	});

	it('refuses an iat in milliseconds (Date.now()), saying so', async () => {
		const ms = 1_700_000_000_123;
		await expect(createDpopProof(key, { htm: 'GET', htu: 'https://pds.example/', iat: ms })).rejects.toThrow(
			new TypeError(
				`a DPoP proof's iat must be whole seconds since the epoch, got ${ms}, which is milliseconds: divide by 1000`,
			),
		);
		// seconds up to 1e11 (the year 5138) are still seconds
		const proof = await createDpopProof(key, { htm: 'GET', htu: 'https://pds.example/', iat: 1e11 });
		expect((await verify(proof)).iat).toBe(1e11);
	});

	it('refuses an htu that is not an absolute http(s) URL, quoting it without its query', async () => {
		const cases: [htu: unknown, got: string][] = [
			['/relative', '"/relative"'],
			['pds.example/xrpc/foo?code=secret', '"pds.example/xrpc/foo"'],
			['ftp://pds.example/', '"ftp://pds.example/"'],
			['https://', '"https://"'],
			[undefined, 'undefined'],
			[new URL('https://pds.example/'), 'object'],
		];
		for (const [htu, got] of cases) {
			await expect(createDpopProof(key, { htm: 'GET', htu: htu as string })).rejects.toThrow(
				new TypeError(`a DPoP proof's htu must be an absolute http(s) URL, got ${got}`),
			);
		}
		const proof = await createDpopProof(key, { htm: 'GET', htu: 'HTTP://localhost:2583/xrpc/foo' });
		expect((await verify(proof)).htu).toBe('http://localhost:2583/xrpc/foo');
	});

	it('signs htu as servers compare it (and as createDpopFetch signs it): origin and path, normalised', async () => {
		for (const [given, signed] of [
			['https://pds.example', 'https://pds.example/'],
			['HTTPS://PDS.Example:443/xrpc/./a/../b?x=1#y', 'https://pds.example/xrpc/b'],
			['https://pds.example/a b', 'https://pds.example/a%20b'],
			['http://127.0.0.1:80/x', 'http://127.0.0.1/x'],
		]) {
			expect((await verify(await createDpopProof(key, { htm: 'GET', htu: given! }))).htu).toBe(signed);
		}
	});

	it('refuses an htu with credentials, which every server the proof reaches would read, without repeating them', async () => {
		// a password without a user name is a credential all the same
		for (const htu of ['https://user:s3cret@pds.example/a', 'https://:s3cret@pds.example/a']) {
			const error = await createDpopProof(key, { htm: 'GET', htu }).catch((err: unknown) => err);
			expect(error).toBeInstanceOf(TypeError);
			expect((error as Error).message).toBe(
				"a DPoP proof's htu must not contain credentials (a user name or password)",
			);
		}
	});

	it('refuses a nonce, ath or htm that is not a string', async () => {
		const htu = 'https://pds.example/';
		const cases: [options: object, message: string][] = [
			[{ htm: 'GET', htu, nonce: 5 }, "a DPoP proof's nonce must be a string, got number"],
			[{ htm: 'GET', htu, nonce: null }, "a DPoP proof's nonce must be a string, got null"],
			[
				{ htm: 'GET', htu, ath: Promise.resolve('x') },
				"a DPoP proof's ath must be a string (computeAth of the access token), got object",
			],
			[{ htu }, "a DPoP proof's htm must be an HTTP method, got undefined"],
			[{ htm: '', htu }, "a DPoP proof's htm must be an HTTP method, got an empty string"],
			[
				{ htm: 'GET', htu, iat: '1700000000' },
				"a DPoP proof's iat must be whole seconds since the epoch, got string",
			],
		];
		for (const [options, message] of cases) {
			await expect(createDpopProof(key, options as never)).rejects.toThrow(new TypeError(message));
		}
	});

	it('refuses missing options, or a key that is not a DPoP key, naming which', async () => {
		const htu = 'https://pds.example/';
		await expect(createDpopProof(key, undefined as never)).rejects.toThrow(
			new TypeError(
				"a DPoP proof's options must be an object ({ htm, htu, nonce?, ath?, iat? }), got undefined",
			),
		);
		const cases: [input: unknown, got: string][] = [
			[undefined, 'undefined'],
			[Promise.resolve(key), 'a Promise: await it first'],
			[{ ...key.publicJwk, d: 'secret-private-part' }, 'a JWK: load it with importDpopKey first'],
			[{ alg: 'ES256' }, 'an object without alg, publicJwk and sign'],
		];
		for (const [input, got] of cases) {
			await expect(createDpopProof(input as DpopKey, { htm: 'GET', htu })).rejects.toThrow(
				new TypeError(
					`a DPoP proof's key must be a DPoP key from generateDpopKey or importDpopKey, got ${got}`,
				),
			);
		}
	});

	it('verifies with jose against the embedded jwk', async () => {
		const proof = await createDpopProof(key, { htm: 'POST', htu: 'https://as.example/oauth/token' });
		await expect(verify(proof)).resolves.toBeDefined();
	});

	it('carries exactly htm, htu, iat and jti when no nonce or ath is given', async () => {
		const proof = await createDpopProof(key, {
			htm: 'POST',
			htu: 'https://as.example/oauth/par',
			iat: 1_700_000_000,
		});
		const payload = await verify(proof);
		expect(Object.keys(payload).sort()).toEqual(['htm', 'htu', 'iat', 'jti']);
		expect('nonce' in payload).toBe(false);
		expect('ath' in payload).toBe(false);
		expect(payload.htm).toBe('POST');
		expect(payload.htu).toBe('https://as.example/oauth/par');
		expect(payload.iat).toBe(1_700_000_000);
	});

	it('leaves nonce and ath out when they are given as undefined', async () => {
		const proof = await createDpopProof(key, {
			htm: 'GET',
			htu: 'https://pds.example/xrpc/foo',
			nonce: undefined,
			ath: undefined,
		});
		const payload = await verify(proof);
		expect(Object.keys(payload).sort()).toEqual(['htm', 'htu', 'iat', 'jti']);
	});

	it('carries the nonce when given', async () => {
		const proof = await createDpopProof(key, {
			htm: 'POST',
			htu: 'https://as.example/oauth/token',
			nonce: 'server-nonce',
		});
		const payload = await verify(proof);
		expect(payload.nonce).toBe('server-nonce');
		expect('ath' in payload).toBe(false);
	});

	it('carries the ath when given', async () => {
		const ath = createHash('sha256').update('tok').digest('base64url');
		const proof = await createDpopProof(key, { htm: 'GET', htu: 'https://pds.example/xrpc/foo', ath });
		const payload = await verify(proof);
		expect(payload.ath).toBe(ath);
		expect('nonce' in payload).toBe(false);
	});

	it('carries nonce and ath together', async () => {
		const proof = await createDpopProof(key, {
			htm: 'GET',
			htu: 'https://pds.example/xrpc/foo',
			nonce: 'n',
			ath: 'a',
		});
		const payload = await verify(proof);
		expect(Object.keys(payload).sort()).toEqual(['ath', 'htm', 'htu', 'iat', 'jti', 'nonce']);
		expect(payload.nonce).toBe('n');
		expect(payload.ath).toBe('a');
	});

	it('passes htm through as given', async () => {
		const proof = await createDpopProof(key, { htm: 'DELETE', htu: 'https://pds.example/xrpc/foo' });
		expect((await verify(proof)).htm).toBe('DELETE');
	});

	it('sets iat to the current time in seconds by default', async () => {
		const before = Math.floor(Date.now() / 1000);
		const proof = await createDpopProof(key, { htm: 'GET', htu: 'https://pds.example/xrpc/foo' });
		const after = Math.floor(Date.now() / 1000);
		const { iat } = await verify(proof);
		expect(Number.isInteger(iat)).toBe(true);
		expect(iat).toBeGreaterThanOrEqual(before);
		expect(iat).toBeLessThanOrEqual(after);
	});

	it('gives every proof a fresh random jti of at least 22 base64url characters', async () => {
		const options = { htm: 'GET', htu: 'https://pds.example/xrpc/foo', iat: 1_700_000_000 };
		const first = await verify(await createDpopProof(key, options));
		const second = await verify(await createDpopProof(key, options));
		expect(first.jti).toMatch(/^[A-Za-z0-9_-]{22,}$/);
		expect(second.jti).toMatch(/^[A-Za-z0-9_-]{22,}$/);
		expect(first.jti).not.toBe(second.jti);
	});

	it.each([
		['https://pds.example/xrpc/foo?x=1#frag', 'https://pds.example/xrpc/foo'],
		['https://pds.example/xrpc/foo#frag?x', 'https://pds.example/xrpc/foo'],
		['https://pds.example/xrpc/foo#frag', 'https://pds.example/xrpc/foo'],
		['https://pds.example/xrpc/foo?x=1', 'https://pds.example/xrpc/foo'],
	])('drops query and fragment from htu %s', async (htu, expected) => {
		const proof = await createDpopProof(key, { htm: 'GET', htu });
		expect((await verify(proof)).htu).toBe(expected);
	});

	it('uses each key’s own header when proofs of several keys are made', async () => {
		const other = await generateDpopKey();
		const options = { htm: 'GET', htu: 'https://pds.example/xrpc/foo' };
		const a = decodeProtectedHeader(await createDpopProof(key, options));
		const b = decodeProtectedHeader(await createDpopProof(other, options));
		const a2 = decodeProtectedHeader(await createDpopProof(key, options));
		expect(a.jwk).toStrictEqual({ ...key.publicJwk });
		expect(b.jwk).toStrictEqual({ ...other.publicJwk });
		expect(a2.jwk).toStrictEqual({ ...key.publicJwk });
	});

	it('signs each proof with the key’s sign function once', async () => {
		let calls = 0;
		const counting: DpopKey = {
			...key,
			sign: (data) => {
				calls++;
				return key.sign(data);
			},
		};
		await verify(await createDpopProof(counting, { htm: 'GET', htu: 'https://pds.example/' }));
		await verify(await createDpopProof(counting, { htm: 'GET', htu: 'https://pds.example/' }));
		expect(calls).toBe(2);
	});

	it.each([['PS256'], ['RS256'], ['ES384']] as const)('makes %s proofs that verify', async (alg) => {
		const other = await generateDpopKey([alg]);
		const proof = await createDpopProof(other, {
			htm: 'POST',
			htu: 'https://as.example/oauth/token',
			nonce: 'n',
		});
		const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
			typ: 'dpop+jwt',
			algorithms: [alg],
		});
		expect(protectedHeader.alg).toBe(alg);
		expect(protectedHeader.jwk).toStrictEqual({ ...other.publicJwk });
		if (other.publicJwk.kty === 'RSA') {
			expect(Object.keys(protectedHeader.jwk ?? {}).sort()).toEqual(['e', 'kty', 'n']);
		}
		expect(payload.nonce).toBe('n');
	});

	it('fails verification when the proof is tampered with', async () => {
		const proof = await createDpopProof(key, { htm: 'GET', htu: 'https://pds.example/xrpc/foo' });
		const [header, , signature] = proof.split('.');
		const forged = Buffer.from(JSON.stringify({ htm: 'POST', htu: 'https://pds.example/xrpc/foo' })).toString(
			'base64url',
		);
		await expect(verify(`${header}.${forged}.${signature}`)).rejects.toThrow();
	});
});

describe('toHtu', () => {
	it.each([
		['https://pds.example/xrpc/foo', 'https://pds.example/xrpc/foo'],
		['https://pds.example/', 'https://pds.example/'],
		['https://pds.example/xrpc/foo?x=1', 'https://pds.example/xrpc/foo'],
		['https://pds.example/xrpc/foo#frag', 'https://pds.example/xrpc/foo'],
		['https://pds.example/xrpc/foo?x=1#frag', 'https://pds.example/xrpc/foo'],
		['https://pds.example/xrpc/foo#frag?x', 'https://pds.example/xrpc/foo'],
		['https://pds.example/xrpc/foo?', 'https://pds.example/xrpc/foo'],
		['https://pds.example/xrpc/foo#', 'https://pds.example/xrpc/foo'],
		['https://pds.example/?a?b#c#d', 'https://pds.example/'],
		['HTTPS://X.com:443/a?b#c', 'https://x.com/a'],
		['http://PDS.example:80/xrpc/foo', 'http://pds.example/xrpc/foo'],
		['https://pds.example:8443/xrpc/foo', 'https://pds.example:8443/xrpc/foo'],
		['https://pds.example', 'https://pds.example/'],
		['https://pds.example/a/../xrpc/b c', 'https://pds.example/xrpc/b%20c'],
	])('turns %s into %s', (url, expected) => {
		expect(toHtu(url)).toBe(expected);
	});

	it.each([
		'HTTPS://X.com:443/a?b#c',
		'http://PDS.example:80/xrpc/foo?x=1',
		'https://pds.example',
		'https://pds.example/a/../xrpc/b c#f',
		'https://pds.example/xrpc/%7Efoo?x',
	])('gives the htu a proof for %s carries', async (url) => {
		const key = await generateDpopKey();
		const { htu } = await verify(await createDpopProof(key, { htm: 'GET', htu: url }));
		expect(toHtu(url)).toBe(htu);
	});

	it.each([
		['ftp://pds.example/x?secret', `toHtu's url must be an absolute http(s) URL, got "ftp://pds.example/x"`],
		['/xrpc/foo', `toHtu's url must be an absolute http(s) URL, got "/xrpc/foo"`],
		// never the user name or password of a URL that is refused for its scheme, or has none
		[
			'ftp://alice:hunter2@pds.example/x',
			`toHtu's url must be an absolute http(s) URL, got "ftp://pds.example/x"`,
		],
		[
			'alice:hunter2@pds.example:443/x',
			`toHtu's url must be an absolute http(s) URL, got "pds.example:443/x"`,
		],
		['https://u:p@pds.example/', "toHtu's url must not contain credentials (a user name or password)"],
		['https://:p@pds.example/', "toHtu's url must not contain credentials (a user name or password)"],
	])('throws a TypeError for %s, which no proof carries', (url, message) => {
		expect(() => toHtu(url)).toThrow(new TypeError(message));
	});
});
