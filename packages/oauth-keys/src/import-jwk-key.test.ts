import { base64url, compactVerify, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';

import { InvalidKeyError, type InvalidKeyReason } from './errors.ts';
import { exportPkcs8Key } from './export-pkcs8-key.ts';
import { importJwkKey } from './import-jwk-key.ts';
import { importJwkSigner } from './import-jwk-signer.ts';
import { importSigningJwk } from './import-signing-jwk.ts';
import type { PrivateKey } from './private-key.ts';
import type { SigningAlgorithm } from './signing-algorithm.ts';
import type { CreateSigner, SignFunction } from './signing-key.ts';

const encoder = new TextEncoder();

const KEY_MATERIAL_FIELDS = ['d', 'x', 'y', 'n', 'p', 'q', 'dp', 'dq', 'qi'] as const;

/** a private JWK made by jose (independently of the package), without kid or alg. */
const josePrivateJwk = async (
	alg: string,
	options: { crv?: string } = {},
): Promise<Record<string, string>> => {
	const { privateKey } = await generateKeyPair(alg, { extractable: true, ...options });
	return (await exportJWK(privateKey)) as Record<string, string>;
};

/** the substrings of `secret` long enough to count as leaked key material. */
const leaksInto = (message: string, secret: string, window = 9): boolean => {
	for (let i = 0; i + window <= secret.length; i++) {
		if (message.includes(secret.slice(i, i + window))) {
			return true;
		}
	}
	return false;
};

/**
 * awaits a rejection and checks it is an InvalidKeyError with `reason`, whose message quotes none
 * of the key material in `jwk` (nor `extraSecrets`).
 */
const expectInvalidKey = async (
	promise: Promise<unknown>,
	reason: InvalidKeyReason | readonly InvalidKeyReason[],
	jwk: Record<string, unknown> = {},
	extraSecrets: readonly string[] = [],
): Promise<InvalidKeyError> => {
	const error = await promise.then(
		() => {
			throw new Error('expected the import to be rejected');
		},
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(InvalidKeyError);
	expect(error).toBeInstanceOf(TypeError);
	const invalid = error as InvalidKeyError;
	expect(invalid.name).toBe('InvalidKeyError');
	expect(invalid.code).toBe('ERR_INVALID_KEY');
	if (typeof reason === 'string') {
		expect(invalid.reason).toBe(reason);
	} else {
		expect(reason).toContain(invalid.reason);
	}

	// only values long enough to be key material (not "", "EC" or "P-256")
	const secrets = [...KEY_MATERIAL_FIELDS.map((field) => jwk[field]), ...extraSecrets].filter(
		(v): v is string => typeof v === 'string' && v.length >= 9,
	);
	for (const secret of secrets) {
		expect(invalid.message).not.toContain(secret);
		expect(leaksInto(invalid.message, secret), `message leaks key material: ${invalid.message}`).toBe(false);
	}
	return invalid;
};

/** checks with jose that `key` signs for its published public JWK. */
const expectSignsFor = async (key: PrivateKey, publicJwk: object = key.publicJwk): Promise<void> => {
	const input = `${base64url.encode(JSON.stringify({ alg: key.alg }))}.${base64url.encode('payload')}`;
	const signature = await key.sign(encoder.encode(input));
	const publicKey = await importJWK({ ...publicJwk } as JWK, key.alg);
	await expect(
		compactVerify(`${input}.${base64url.encode(signature)}`, publicKey, { algorithms: [key.alg] }),
	).resolves.toBeDefined();
};

const ecJwk = await josePrivateJwk('ES256');
const otherEcJwk = await josePrivateJwk('ES256');
const rsaJwk = await josePrivateJwk('RS256');
const otherRsaJwk = await josePrivateJwk('RS256');

describe('importJwkKey', () => {
	it('imports an EC private JWK object with its kid, inferring ES256 from the curve', async () => {
		const key = await importJwkKey({ ...ecJwk, kid: 'main' });
		expect(key.kid).toBe('main');
		expect(key.alg).toBe('ES256');
		expect(key.cryptoKey.type).toBe('private');
		expect(key.publicJwk).toEqual({ kty: 'EC', crv: 'P-256', x: ecJwk.x, y: ecJwk.y });
		expect(Object.keys(key.publicJwk).sort()).toEqual(['crv', 'kty', 'x', 'y']);
		await expectSignsFor(key);
	});

	it('imports the JSON text of a private JWK', async () => {
		const key = await importJwkKey(JSON.stringify({ ...ecJwk, kid: 'env' }));
		expect(key.kid).toBe('env');
		expect(key.publicJwk).toEqual({ kty: 'EC', crv: 'P-256', x: ecJwk.x, y: ecJwk.y });
		await expectSignsFor(key);
	});

	it('imports JSON text surrounded by whitespace and newlines', async () => {
		const key = await importJwkKey(`\n  ${JSON.stringify({ ...ecJwk, kid: 'env' })}\n`);
		expect(key.kid).toBe('env');
	});

	it('imports an RSA private JWK with its alg', async () => {
		const key = await importJwkKey({ ...rsaJwk, kid: 'rsa', alg: 'RS256' });
		expect(key.alg).toBe('RS256');
		expect(key.publicJwk).toEqual({ kty: 'RSA', n: rsaJwk.n, e: rsaJwk.e });
		expect(Object.keys(key.publicJwk).sort()).toEqual(['e', 'kty', 'n']);
		await expectSignsFor(key);
	});

	it('imports an RSA private JWK as PS256 when options.alg says so', async () => {
		const key = await importJwkKey({ ...rsaJwk, kid: 'rsa' }, { alg: 'PS256' });
		expect(key.alg).toBe('PS256');
		await expectSignsFor(key);
	});

	it('imports an RSA key with public exponent 3', async () => {
		const pair = (await globalThis.crypto.subtle.generateKey(
			{
				name: 'RSASSA-PKCS1-v1_5',
				modulusLength: 2048,
				publicExponent: new Uint8Array([3]),
				hash: 'SHA-256',
			},
			true,
			['sign', 'verify'],
		)) as CryptoKeyPair;
		const jwk = (await globalThis.crypto.subtle.exportKey('jwk', pair.privateKey)) as Record<string, unknown>;
		expect(jwk.e).toBe('Aw');
		const key = await importJwkKey({ ...jwk, kid: 'e3' });
		await expectSignsFor(key);
	});

	it('infers ES384 from curve P-384 when the JWK has no alg', async () => {
		const jwk = await josePrivateJwk('ES384');
		expect(jwk.crv).toBe('P-384');
		const key = await importJwkKey({ ...jwk, kid: 'p384' });
		expect(key.alg).toBe('ES384');
		await expectSignsFor(key);
	});

	it('infers ES512 from curve P-521 when the JWK has no alg', async () => {
		const jwk = await josePrivateJwk('ES512');
		expect(jwk.crv).toBe('P-521');
		const key = await importJwkKey({ ...jwk, kid: 'p521' });
		expect(key.alg).toBe('ES512');
		await expectSignsFor(key);
	});

	it('lets options.kid override the JWK kid', async () => {
		const key = await importJwkKey({ ...ecJwk, kid: 'from-jwk' }, { kid: 'from-options' });
		expect(key.kid).toBe('from-options');
	});

	it('takes the kid from options when the JWK has none', async () => {
		const key = await importJwkKey(ecJwk, { kid: 'only-options' });
		expect(key.kid).toBe('only-options');
	});

	it('accepts options.alg equal to the JWK alg', async () => {
		const key = await importJwkKey({ ...ecJwk, kid: 'k', alg: 'ES256' }, { alg: 'ES256' });
		expect(key.alg).toBe('ES256');
	});

	it('imports JWKs carrying key_ops, ext and use: sig from other tools', async () => {
		const ec = await importJwkKey({ ...ecJwk, kid: 'ec', key_ops: ['sign'], ext: true, use: 'sig' });
		expect(ec.alg).toBe('ES256');
		expect(ec.publicJwk).toEqual({ kty: 'EC', crv: 'P-256', x: ecJwk.x, y: ecJwk.y });
		await expectSignsFor(ec);

		const rsa = await importJwkKey({
			...rsaJwk,
			kid: 'rsa',
			alg: 'RS256',
			key_ops: ['sign'],
			ext: true,
			use: 'sig',
		});
		expect(rsa.publicJwk).toEqual({ kty: 'RSA', n: rsaJwk.n, e: rsaJwk.e });
		await expectSignsFor(rsa);
	});

	it('imports JWKs whose key_ops or ext would make a WebCrypto import fail', async () => {
		// key_ops with "verify" is not a valid usage for a private key, and ext: false forbids the
		// extractable import that exportJwkKey needs: both must be ignored, not passed on
		const key = await importJwkKey({ ...ecJwk, kid: 'k', key_ops: ['sign', 'verify'], ext: false });
		await expectSignsFor(key);
		expect(key.cryptoKey.extractable).toBe(true);
		expect(key.cryptoKey.usages).toEqual(['sign']);
	});

	it('imports a frozen JWK without modifying it', async () => {
		const jwk = Object.freeze({ ...ecJwk, kid: 'frozen' });
		const before = JSON.stringify(jwk);
		await importJwkKey(jwk);
		expect(JSON.stringify(jwk)).toBe(before);
	});

	it('signs through options.createSigner when given', async () => {
		const calls: [CryptoKey, SigningAlgorithm][] = [];
		const fakeSign: SignFunction = () => new Uint8Array([7]);
		const createSigner: CreateSigner = (cryptoKey, alg) => {
			calls.push([cryptoKey, alg]);
			return fakeSign;
		};
		const key = await importJwkKey({ ...ecJwk, kid: 'custom' }, { createSigner });
		expect(key.sign).toBe(fakeSign);
		expect(calls).toEqual([[key.cryptoKey, 'ES256']]);
	});

	describe('malformed input', () => {
		const json = JSON.stringify({ ...ecJwk, kid: 'k' });

		it('rejects JSON with a trailing garbage character with reason malformed_json', async () => {
			await expectInvalidKey(importJwkKey(`${json}x`), 'malformed_json', ecJwk, [json]);
		});

		it('rejects truncated JSON with reason malformed_json', async () => {
			await expectInvalidKey(importJwkKey(json.slice(0, -1)), 'malformed_json', ecJwk, [json]);
		});

		it('rejects JSON broken right after the private key with reason malformed_json', async () => {
			const broken = `{"kty":"EC","crv":"P-256","x":"${ecJwk.x}","y":"${ecJwk.y}","d":"${ecJwk.d}" oops}`;
			await expectInvalidKey(importJwkKey(broken), 'malformed_json', ecJwk);
		});

		it('rejects an empty string with reason malformed_json, saying it is empty', async () => {
			const error = await expectInvalidKey(importJwkKey(''), 'malformed_json');
			expect(error.message).toMatch(/empty/);
		});

		it('rejects a whitespace-only string as empty', async () => {
			const error = await expectInvalidKey(importJwkKey('  \n\t'), 'malformed_json');
			expect(error.message).toMatch(/empty/);
		});

		it('rejects JSON wrapped in single quotes with reason malformed_json', async () => {
			const error = await expectInvalidKey(importJwkKey(`'${json}'`), 'malformed_json', ecJwk, [json]);
			expect(error.message).toMatch(/single quote/);
		});

		it('rejects double-encoded JSON with reason malformed_json', async () => {
			const error = await expectInvalidKey(importJwkKey(JSON.stringify(json)), 'malformed_json', ecJwk, [
				json,
			]);
			expect(error.message).toMatch(/twice/);
		});

		for (const [label, value] of [
			['undefined', undefined],
			['null', null],
			['a number', 42],
			['an array', [ecJwk]],
			['a boolean', true],
		] as const) {
			it(`rejects ${label} with reason not_an_object`, async () => {
				await expectInvalidKey(importJwkKey(value as unknown as string), 'not_an_object', ecJwk);
			});
		}

		it('rejects a JWKS object or its JSON with reason not_an_object, saying to pass one of its keys', async () => {
			const jwks = { keys: [{ ...ecJwk, kid: 'k' }] };
			for (const input of [jwks, JSON.stringify(jwks)]) {
				const error = await expectInvalidKey(importJwkKey(input as never), 'not_an_object', ecJwk);
				expect(error.message).toBe(
					'expected a private JWK, got a JWKS (an object with keys): pass one of its keys',
				);
			}
		});

		it('rejects a Promise with reason not_an_object, saying to await it', async () => {
			const error = await expectInvalidKey(
				importJwkKey(Promise.resolve({ ...ecJwk, kid: 'k' }) as never),
				'not_an_object',
				ecJwk,
			);
			expect(error.message).toBe('expected a private JWK, got a Promise: await it first');
		});

		it('rejects an already imported key, or its CryptoKey, with reason not_an_object', async () => {
			const key = await importJwkKey({ ...ecJwk, kid: 'k' });
			for (const input of [key, key.cryptoKey]) {
				const error = await expectInvalidKey(importJwkKey(input as never), 'not_an_object', ecJwk);
				expect(error.message).toBe('expected a private JWK, got an already imported key: use it as is');
			}
		});

		it('rejects a PEM with reason malformed_json, pointing at importPkcs8Key', async () => {
			const pem = await exportPkcs8Key(await importJwkKey({ ...ecJwk, kid: 'k' }));
			const body = pem.split('\n').slice(1, -1);
			const error = await expectInvalidKey(importJwkKey(pem), 'malformed_json', ecJwk, body);
			expect(error.message).toBe(
				'the private JWK is not valid JSON: it looks like a PEM; import a PEM with importPkcs8Key',
			);
		});

		it('rejects options that are not an object with a TypeError naming them', async () => {
			await expect(importJwkKey({ ...ecJwk, kid: 'k' }, null as never)).rejects.toThrow(
				new TypeError('importJwkKey options must be an object ({ kid?, alg?, createSigner? }), got null'),
			);
			await expect(importJwkKey({ ...ecJwk, kid: 'k' }, 'k' as never)).rejects.toThrow(
				'importJwkKey options must be an object ({ kid?, alg?, createSigner? }), got string',
			);
		});

		for (const text of ['null', '42', '[]', 'true']) {
			it(`rejects the JSON text ${text} with reason not_an_object`, async () => {
				await expectInvalidKey(importJwkKey(text), 'not_an_object');
			});
		}
	});

	describe('unusable keys', () => {
		it('rejects kty OKP with reason unsupported_key_type', async () => {
			const okp = await josePrivateJwk('Ed25519');
			expect(okp.kty).toBe('OKP');
			await expectInvalidKey(importJwkKey({ ...okp, kid: 'okp' }), 'unsupported_key_type', okp);
		});

		it('rejects kty oct with reason unsupported_key_type', async () => {
			const secret = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0';
			await expectInvalidKey(
				importJwkKey({ kty: 'oct', k: secret, kid: 'oct' }),
				'unsupported_key_type',
				{},
				[secret],
			);
		});

		it('rejects a JWK without kty with reason unsupported_key_type', async () => {
			const { kty: _kty, ...rest } = ecJwk;
			await expectInvalidKey(importJwkKey({ ...rest, kid: 'k' }), 'unsupported_key_type', ecJwk);
		});

		it('rejects an EC public key with reason public_key', async () => {
			const { d: _d, ...publicJwk } = ecJwk;
			await expectInvalidKey(importJwkKey({ ...publicJwk, kid: 'k' }), 'public_key', ecJwk);
		});

		it('rejects an RSA public key with reason public_key', async () => {
			const { kty, n, e } = rsaJwk;
			await expectInvalidKey(importJwkKey({ kty, n, e, kid: 'k', alg: 'RS256' }), 'public_key', rsaJwk);
		});

		it.each([
			['a number', 12345, 'number'],
			['an array', ['AQAB'], 'an array'],
			['an object', { value: 'AQAB' }, 'object'],
			['null', null, 'null'],
		])('rejects a d that is %s with reason invalid_key, not public_key', async (_label, d, type) => {
			for (const base of [ecJwk, rsaJwk]) {
				const error = await expectInvalidKey(
					importJwkKey({ ...base, d, kid: 'k', alg: base === ecJwk ? 'ES256' : 'RS256' }),
					'invalid_key',
					base,
				);
				expect(error.message).toBe(`the JWK's "d" must be a base64url string, got ${type}`);
			}
			// the signing-key imports share the check
			await expectInvalidKey(importSigningJwk({ ...ecJwk, d }), 'invalid_key', ecJwk);
			await expectInvalidKey(importJwkSigner({ ...ecJwk, d }), 'invalid_key', ecJwk);
		});

		it('rejects an empty d with reason public_key', async () => {
			await expectInvalidKey(importJwkKey({ ...ecJwk, d: '', kid: 'k' }), 'public_key', { ...ecJwk, d: '' });
		});

		it('rejects a JWK with no kid in it nor in options with reason missing_kid', async () => {
			const error = await expectInvalidKey(importJwkKey(ecJwk), 'missing_kid', ecJwk);
			expect(error.message).toMatch(/kid/);
		});

		it('rejects the JSON text of a JWK without kid with reason missing_kid', async () => {
			await expectInvalidKey(importJwkKey(JSON.stringify(ecJwk)), 'missing_kid', ecJwk);
		});

		it('rejects an empty kid with reason missing_kid', async () => {
			await expectInvalidKey(importJwkKey({ ...ecJwk, kid: '' }), 'missing_kid', ecJwk);
		});

		it('rejects a non-string kid with reason missing_kid', async () => {
			await expectInvalidKey(importJwkKey({ ...ecJwk, kid: 7 }), 'missing_kid', ecJwk);
		});

		it('rejects an empty options.kid even when the JWK has one', async () => {
			await expectInvalidKey(importJwkKey({ ...ecJwk, kid: 'k' }, { kid: '' }), 'missing_kid', ecJwk);
		});

		it('rejects a P-256 key with options.alg ES384 with reason alg_mismatch', async () => {
			await expectInvalidKey(importJwkKey({ ...ecJwk, kid: 'k' }, { alg: 'ES384' }), 'alg_mismatch', ecJwk);
		});

		it('rejects a P-256 key whose JWK says alg ES384 with reason alg_mismatch', async () => {
			await expectInvalidKey(importJwkKey({ ...ecJwk, kid: 'k', alg: 'ES384' }), 'alg_mismatch', ecJwk);
		});

		it('rejects jwk.alg ES256 with options.alg RS256 with reason alg_mismatch', async () => {
			await expectInvalidKey(
				importJwkKey({ ...ecJwk, kid: 'k', alg: 'ES256' }, { alg: 'RS256' }),
				'alg_mismatch',
				ecJwk,
			);
		});

		it('rejects jwk.alg RS256 with options.alg PS256 with reason alg_mismatch', async () => {
			await expectInvalidKey(
				importJwkKey({ ...rsaJwk, kid: 'k', alg: 'RS256' }, { alg: 'PS256' }),
				'alg_mismatch',
				rsaJwk,
			);
		});

		it('rejects an EC key with options.alg RS256 with reason alg_mismatch', async () => {
			await expectInvalidKey(importJwkKey({ ...ecJwk, kid: 'k' }, { alg: 'RS256' }), 'alg_mismatch', ecJwk);
		});

		it('rejects an RSA key with alg ES256 with reason alg_mismatch', async () => {
			await expectInvalidKey(importJwkKey({ ...rsaJwk, kid: 'k', alg: 'ES256' }), 'alg_mismatch', rsaJwk);
		});

		for (const alg of ['HS256', 'none', 'EdDSA']) {
			it(`rejects jwk.alg ${alg} with reason unsupported_alg`, async () => {
				await expectInvalidKey(importJwkKey({ ...ecJwk, kid: 'k', alg }), 'unsupported_alg', ecJwk);
			});

			it(`rejects options.alg ${alg} with reason unsupported_alg`, async () => {
				await expectInvalidKey(
					importJwkKey({ ...ecJwk, kid: 'k' }, { alg: alg as SigningAlgorithm }),
					'unsupported_alg',
					ecJwk,
				);
			});
		}

		it('rejects an RSA JWK without alg with reason missing_alg', async () => {
			const error = await expectInvalidKey(importJwkKey({ ...rsaJwk, kid: 'k' }), 'missing_alg', rsaJwk);
			expect(error.message).toMatch(/RS256/);
		});

		it('rejects an EC JWK on an unknown curve without alg with reason missing_alg', async () => {
			const error = await expectInvalidKey(
				importJwkKey({ ...ecJwk, crv: 'secp256k1', kid: 'k' }),
				'missing_alg',
				ecJwk,
			);
			expect(error.message).toMatch(/secp256k1/);
		});

		it('rejects a 1024-bit RSA key with reason weak_key', async () => {
			const pair = (await globalThis.crypto.subtle.generateKey(
				{
					name: 'RSASSA-PKCS1-v1_5',
					modulusLength: 1024,
					publicExponent: new Uint8Array([1, 0, 1]),
					hash: 'SHA-256',
				},
				true,
				['sign', 'verify'],
			)) as CryptoKeyPair;
			const weak = (await globalThis.crypto.subtle.exportKey('jwk', pair.privateKey)) as Record<
				string,
				unknown
			>;
			expect(weak.alg).toBe('RS256');

			const error = await expectInvalidKey(importJwkKey({ ...weak, kid: 'weak' }), 'weak_key', weak);
			expect(error.message).toMatch(/1024/);
			expect(error.message).toMatch(/2048/);
			await expectInvalidKey(
				importJwkKey({ ...weak, alg: undefined, kid: 'weak' }, { alg: 'PS256' }),
				'weak_key',
				weak,
			);
		});

		it('rejects an RSA key with public exponent 1 with reason weak_key', async () => {
			// a consistent key: with e = 1, d = dp = dq = 1 (qi depends on p and q alone). its
			// signatures are the padded messages themselves, which anyone can forge
			const e1 = { ...rsaJwk, e: 'AQ', d: 'AQ', dp: 'AQ', dq: 'AQ', kid: 'k', alg: 'RS256' };
			const error = await expectInvalidKey(importJwkKey(e1), 'weak_key', e1);
			expect(error.message).toMatch(/"e"/);
			await expectInvalidKey(importJwkKey({ ...e1, alg: undefined }, { alg: 'PS256' }), 'weak_key', e1);
		});

		// 2 and 65536 (even), and 4 (even, one byte)
		for (const e of ['Ag', 'BA', 'AQAA']) {
			it(`rejects an RSA key with the even public exponent ${e} with reason weak_key`, async () => {
				const even = { ...rsaJwk, e, kid: 'k', alg: 'RS256' };
				await expectInvalidKey(importJwkKey(even), 'weak_key', even);
			});
		}

		for (const crv of ['constructor', '__proto__', 'toString']) {
			it(`rejects an EC JWK on curve ${crv} (an Object.prototype name) with reason missing_alg`, async () => {
				const error = await expectInvalidKey(importJwkKey({ ...ecJwk, crv, kid: 'k' }), 'missing_alg', ecJwk);
				expect(error.message).toContain(`unsupported EC curve "${crv}"`);
			});
		}

		it('rejects use: enc with reason invalid_key', async () => {
			await expectInvalidKey(importJwkKey({ ...ecJwk, kid: 'k', use: 'enc' }), 'invalid_key', ecJwk);
		});

		for (const keyOps of [['verify'], ['encrypt'], [], ['sign ', 'verify']]) {
			it(`rejects key_ops ${JSON.stringify(keyOps)} (no "sign") with reason invalid_key`, async () => {
				const jwk = { ...ecJwk, kid: 'k', use: 'sig', key_ops: keyOps };
				const error = await expectInvalidKey(importJwkKey(jwk), 'invalid_key', ecJwk);
				expect(error.message).toBe(
					`the JWK has "key_ops": ${JSON.stringify(keyOps)}; expected a list that includes "sign"`,
				);
				await expectInvalidKey(importSigningJwk(jwk), 'invalid_key', ecJwk);
			});
		}

		for (const [label, keyOps] of [
			['a string', 'sign'],
			['null', null],
			['an object', { 0: 'sign' }],
			['an array holding other values', ['sign', 1]],
		] as const) {
			it(`rejects key_ops that is ${label} with reason invalid_key`, async () => {
				const jwk = { ...rsaJwk, kid: 'k', alg: 'RS256', key_ops: keyOps };
				const error = await expectInvalidKey(importJwkKey(jwk), 'invalid_key', rsaJwk);
				expect(error.message).toMatch(/^the JWK's "key_ops" must be an array of strings, got /);
			});
		}

		it('rejects an EC key whose d belongs to another key with reason key_mismatch, as for RSA', async () => {
			const mixed = { ...ecJwk, d: otherEcJwk.d, kid: 'k' };
			const error = await expectInvalidKey(importJwkKey(mixed), 'key_mismatch', mixed, [
				...(Object.values(ecJwk) as string[]),
			]);
			expect(error.message).toMatch(/"d".*"x".*"y"/);
			// the same pair with x and y swapped in from the other key: still the public half of a key
			const swapped = { ...ecJwk, x: otherEcJwk.x, y: otherEcJwk.y, kid: 'k' };
			await expectInvalidKey(importSigningJwk(swapped), 'key_mismatch', swapped);
		});

		it('rejects an EC key whose d is garbage base64url', async () => {
			const garbage = { ...ecJwk, d: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', kid: 'k' };
			await expectInvalidKey(importJwkKey(garbage), ['key_mismatch', 'invalid_key'], garbage);

			const short = { ...ecJwk, d: 'bm90LWEta2V5', kid: 'k' };
			await expectInvalidKey(importJwkKey(short), ['key_mismatch', 'invalid_key'], short);
		});

		it('rejects an EC key whose x belongs to another key', async () => {
			const offCurve = { ...ecJwk, x: otherEcJwk.x, kid: 'k' };
			await expectInvalidKey(importJwkKey(offCurve), ['key_mismatch', 'invalid_key'], offCurve);
		});

		it('rejects an EC key whose x is off the curve with reason invalid_key, not key_mismatch', async () => {
			// the public part does not import either: nothing to mismatch
			const offCurve = { ...ecJwk, x: otherEcJwk.x, kid: 'k' };
			await expectInvalidKey(importJwkKey(offCurve), 'invalid_key', offCurve);
		});

		it('rejects an RSA key whose private parameters belong to another key', async () => {
			const mixed = {
				kty: 'RSA',
				n: rsaJwk.n,
				e: rsaJwk.e,
				d: otherRsaJwk.d,
				p: otherRsaJwk.p,
				q: otherRsaJwk.q,
				dp: otherRsaJwk.dp,
				dq: otherRsaJwk.dq,
				qi: otherRsaJwk.qi,
				kid: 'k',
				alg: 'RS256',
			};
			await expectInvalidKey(importJwkKey(mixed), ['key_mismatch', 'invalid_key'], mixed);
		});

		it('checks the reasons in order: public_key before missing_kid', async () => {
			const { d: _d, ...publicJwk } = ecJwk;
			await expectInvalidKey(importJwkKey(publicJwk), 'public_key', ecJwk);
		});
	});
});

/** a jose private JWK on `crv` whose x holds a "-" or "_" (so base64 and base64url differ). */
const ecJwkWithUrlChars = async (alg: string, crv: string): Promise<Record<string, string>> => {
	for (;;) {
		const jwk = await josePrivateJwk(alg, { crv });
		if (/[-_]/.test(jwk.x!)) return jwk;
	}
};

/** `text` with the lowest bit of its last character flipped: for these lengths, an unused bit. */
const strayBit = (text: string): string => {
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
	return text.slice(0, -1) + alphabet[alphabet.indexOf(text.at(-1)!) ^ 1];
};

describe('EC JWK encoding', () => {
	for (const [alg, crv, size] of [
		['ES256', 'P-256', 32],
		['ES384', 'P-384', 48],
		['ES512', 'P-521', 66],
	] as const) {
		describe(crv, async () => {
			const jwk = await ecJwkWithUrlChars(alg, crv);

			it('imports the canonical encoding and publishes it as given', async () => {
				const key = await importJwkKey({ ...jwk, kid: 'k' });
				expect(key.publicJwk).toEqual({ kty: 'EC', crv, x: jwk.x, y: jwk.y });
				for (const field of ['x', 'y', 'd']) {
					expect(Buffer.from(jwk[field]!, 'base64url').length).toBe(size);
				}
			});

			for (const field of ['x', 'y', 'd'] as const) {
				const bytes = () => Buffer.from(jwk[field]!, 'base64url');
				for (const [defect, mutate, message] of [
					// only a P-256 value (32 bytes, 43 characters) has unused bits in its last character
					...(size % 3 === 0
						? []
						: ([
								[
									'stray trailing bits',
									() => strayBit(jwk[field]!),
									/has stray bits set in its last character/,
								],
							] as const)),
					['"=" padding', () => `${jwk[field]}=`, /has "=" padding/],
					[
						'a leading zero byte',
						() => Buffer.concat([Buffer.alloc(1), bytes()]).toString('base64url'),
						new RegExp(
							`is ${size + 1} bytes, starting with a zero byte; ${crv} needs exactly ${size} \\(RFC 7518 §6\\.2: drop the extra leading zero bytes\\)$`,
						),
					],
					[
						'a missing byte',
						() => bytes().subarray(1).toString('base64url'),
						new RegExp(
							`is ${size - 1} bytes; ${crv} needs exactly ${size} \\(RFC 7518 §6\\.2: keep the leading zero bytes\\)$`,
						),
					],
					['whitespace', () => ` ${jwk[field]}`, /holds characters that are not base64url/],
				] as const) {
					it(`refuses ${field} with ${defect}, naming it, with reason invalid_key`, async () => {
						const bad = { ...jwk, kid: 'k', [field]: mutate() };
						const error = await expectInvalidKey(importJwkKey(bad), 'invalid_key', jwk, [bad[field]!]);
						expect(error.message).toMatch(new RegExp(`^the EC JWK's "${field}" `));
						expect(error.message).toMatch(message);
						await expectInvalidKey(importSigningJwk(bad), 'invalid_key', jwk);
						await expectInvalidKey(importJwkSigner(bad), 'invalid_key', jwk);
					});
				}
			}

			it('refuses x in the standard base64 alphabet, naming it', async () => {
				const std = Buffer.from(jwk.x!, 'base64url').toString('base64').replace(/=+$/, '');
				expect(std).not.toBe(jwk.x);
				const error = await expectInvalidKey(importJwkKey({ ...jwk, kid: 'k', x: std }), 'invalid_key', jwk, [
					std,
				]);
				expect(error.message).toMatch(/^the EC JWK's "x" uses the base64 alphabet/);
			});

			it('refuses a missing or non-string y, naming it', async () => {
				const { y: _y, ...noY } = jwk;
				const missing = await expectInvalidKey(importJwkKey({ ...noY, kid: 'k' }), 'invalid_key', jwk);
				expect(missing.message).toBe(`the EC JWK's "y" is missing`);
				const number = await expectInvalidKey(importJwkKey({ ...jwk, kid: 'k', y: 5 }), 'invalid_key', jwk);
				expect(number.message).toBe(`the EC JWK's "y" is not a string (number)`);
			});
		});
	}
});

describe('importSigningJwk', () => {
	it('imports a private JWK without needing a kid', async () => {
		const key = await importSigningJwk(JSON.stringify(ecJwk));
		expect(key.alg).toBe('ES256');
		expect(key).not.toHaveProperty('kid');
		expect(key.publicJwk).toEqual({ kty: 'EC', crv: 'P-256', x: ecJwk.x, y: ecJwk.y });
	});

	it('rejects a public key with reason public_key', async () => {
		const { d: _d, ...publicJwk } = ecJwk;
		await expectInvalidKey(importSigningJwk(publicJwk), 'public_key', ecJwk);
	});
});
