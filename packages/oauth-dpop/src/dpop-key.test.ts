import {
	type EcPrivateJwk,
	type GeneratedSigner,
	InvalidKeyError,
	NoCompatibleKeyError,
	type SignFunction,
	type SigningAlgorithm,
} from '@atcute/oauth-keys';
import { EmbeddedJWK, importJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';

import { createDpopProof } from './create-dpop-proof.ts';
import { exportDpopKey, generateDpopKey, importDpopKey } from './dpop-key.ts';

const PROOF = { htm: 'POST', htu: 'https://as.example/oauth/token' };

describe('generateDpopKey', () => {
	it('generates an ES256 key on P-256 by default', async () => {
		const key = await generateDpopKey();
		expect(key.alg).toBe('ES256');
		expect(key.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
	});

	it('generates an ES256 key when the server list is undefined', async () => {
		const key = await generateDpopKey(undefined);
		expect(key.alg).toBe('ES256');
	});

	it('prefers ES256 over RS256 whatever order the server lists them in', async () => {
		const key = await generateDpopKey(['RS256', 'ES256']);
		expect(key.alg).toBe('ES256');
		expect(key.publicJwk.kty).toBe('EC');
	});

	it('prefers an ECDSA algorithm over an RSA one', async () => {
		const key = await generateDpopKey(['PS256', 'ES384']);
		expect(key.alg).toBe('ES384');
		expect(key.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-384' });
	});

	it('generates a PS256 key when that is all the server accepts', async () => {
		const key = await generateDpopKey(['PS256']);
		expect(key.alg).toBe('PS256');
		expect(key.publicJwk.kty).toBe('RSA');
	});

	it('throws NoCompatibleKeyError naming both lists when the server accepts none of ours', async () => {
		const error = await generateDpopKey(['EdDSA']).then(
			() => undefined,
			(err: unknown) => err,
		);
		expect(error).toBeInstanceOf(NoCompatibleKeyError);
		const { message, available, supported } = error as NoCompatibleKeyError;
		expect(supported).toEqual(['EdDSA']);
		expect(available[0]).toBe('ES256');
		expect(available).toEqual(expect.arrayContaining(['ES256', 'PS256', 'RS256']));
		expect(message).toContain('EdDSA');
		expect(message).toContain('ES256');
		expect(message).toContain('DPoP');
	});

	it('signs through the given createSigner', async () => {
		let signatures = 0;
		const key = await generateDpopKey(undefined, {
			createSigner: (cryptoKey, alg) => {
				const sign: SignFunction = async (data) => {
					signatures++;
					const params = { name: 'ECDSA', hash: `SHA-${alg.slice(2)}` };
					return new Uint8Array(await crypto.subtle.sign(params, cryptoKey, data as Uint8Array<ArrayBuffer>));
				};
				return sign;
			},
		});
		const proof = await createDpopProof(key, PROOF);
		expect(signatures).toBe(1);
		await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
	});
});

describe('generateDpopKey with createSigner.generate', () => {
	/** a runtime generator stand-in: hands out a key made beforehand, and records its calls. */
	const generatorFrom = async (alg: 'ES256' | 'ES384' = 'ES256') => {
		const made = await generateDpopKey([alg]);
		// a generated key is never ES256K
		const { alg: _alg, ...privateJwk } = (await exportDpopKey(made)) as EcPrivateJwk & { alg: string };
		const calls: string[] = [];
		const createSigner = Object.assign(
			() => {
				calls.push('createSigner');
				return made.sign;
			},
			{
				generate: (wanted: SigningAlgorithm): GeneratedSigner | undefined => {
					calls.push(`generate ${wanted}`);
					if (wanted !== alg) return undefined;
					return { signer: { alg, publicJwk: made.publicJwk, sign: made.sign }, privateJwk };
				},
			},
		);
		return { made, privateJwk, calls, createSigner };
	};

	it('uses the runtime generator, with no WebCrypto key, and exports the JWK it gave', async () => {
		const { made, privateJwk, calls, createSigner } = await generatorFrom();
		const key = await generateDpopKey(['ES256'], { createSigner });
		expect(calls).toEqual(['generate ES256']);
		expect(key.cryptoKey).toBeUndefined();
		expect(key.publicJwk).toStrictEqual(made.publicJwk);
		expect(await exportDpopKey(key)).toStrictEqual({ ...privateJwk, alg: 'ES256' });
		await jwtVerify(await createDpopProof(key, PROOF), EmbeddedJWK, {
			typ: 'dpop+jwt',
			algorithms: ['ES256'],
		});
	});

	it('asks the generator for the negotiated algorithm', async () => {
		const { calls, createSigner } = await generatorFrom('ES384');
		const key = await generateDpopKey(['RS256', 'ES384'], { createSigner });
		expect(calls).toEqual(['generate ES384']);
		expect(key.alg).toBe('ES384');
	});

	it('falls back to WebCrypto when the generator declines', async () => {
		const { calls, createSigner } = await generatorFrom('ES384');
		const key = await generateDpopKey(['PS256'], { createSigner });
		expect(calls).toEqual(['generate PS256', 'createSigner']);
		expect(key.alg).toBe('PS256');
		expect(key.cryptoKey).toBeDefined();
		expect((await exportDpopKey(key)).kty).toBe('RSA');
	});

	it('refuses a generated key whose private parameters are not its public ones', async () => {
		const { privateJwk } = await generatorFrom();
		const other = await generateDpopKey();
		const createSigner = Object.assign(() => other.sign, {
			generate: (): GeneratedSigner => ({ signer: other, privateJwk }),
		});
		const error = await generateDpopKey(undefined, { createSigner }).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(InvalidKeyError);
		expect((error as InvalidKeyError).reason).toBe('key_mismatch');
	});

	it('refuses a generated key that signs with another algorithm than the one asked for', async () => {
		const { made, privateJwk } = await generatorFrom();
		const createSigner = Object.assign(() => made.sign, {
			generate: (): GeneratedSigner => ({ signer: { ...made, alg: 'ES384' }, privateJwk }),
		});
		const error = await generateDpopKey(undefined, { createSigner }).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(InvalidKeyError);
		expect((error as InvalidKeyError).reason).toBe('key_mismatch');
		expect((error as Error).message).toContain('ES384');
	});
});

describe('exportDpopKey', () => {
	it('exports an EC key as exactly its parameters plus alg, with no kid', async () => {
		const key = await generateDpopKey();
		const exported = await exportDpopKey(key);
		expect(Object.keys(exported).sort()).toEqual(['alg', 'crv', 'd', 'kty', 'x', 'y']);
		expect(exported.alg).toBe('ES256');
		expect(exported).not.toHaveProperty('kid');
		expect(typeof exported.d).toBe('string');
		expect(exported.d).not.toBe('');
		expect(exported).toMatchObject(key.publicJwk);
	});

	it('exports an RSA key with its CRT parameters and alg', async () => {
		const key = await generateDpopKey(['PS256']);
		const exported = await exportDpopKey(key);
		expect(Object.keys(exported).sort()).toEqual(['alg', 'd', 'dp', 'dq', 'e', 'kty', 'n', 'p', 'q', 'qi']);
		expect(exported.alg).toBe('PS256');
	});

	it('refuses a key whose stored public parameters are not its own (the check made once, at export)', async () => {
		const key = await generateDpopKey();
		const other = await generateDpopKey();
		const error = await exportDpopKey({ ...key, publicJwk: other.publicJwk }).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(InvalidKeyError);
		expect((error as InvalidKeyError).reason).toBe('key_mismatch');
	});

	it('exports a restored key as the JWK it was restored from', async () => {
		const stored = await exportDpopKey(await generateDpopKey());
		const imported = await importDpopKey(stored, {
			// a runtime path with no WebCrypto key, as the Node facade's
			createSigner: Object.assign(() => () => new Uint8Array(), { fromJwk: () => () => new Uint8Array() }),
		});
		expect(imported.cryptoKey).toBeUndefined();
		expect(await exportDpopKey(imported)).toStrictEqual(stored);
	});

	it('is JSON-serializable without loss', async () => {
		const exported = await exportDpopKey(await generateDpopKey());
		expect(JSON.parse(JSON.stringify(exported))).toStrictEqual(exported);
	});
});

describe('importDpopKey', () => {
	it.each([['ES256'], ['PS256'], ['RS256']] as const)(
		'restores a %s key that signs proofs verifying with the original public key',
		async (alg) => {
			const key = await generateDpopKey([alg]);
			const stored = JSON.parse(JSON.stringify(await exportDpopKey(key)));
			const imported = await importDpopKey(stored);

			expect(imported.alg).toBe(alg);
			expect(imported.publicJwk).toStrictEqual(key.publicJwk);

			const proof = await createDpopProof(imported, PROOF);
			const { protectedHeader } = await jwtVerify(proof, await importJWK({ ...key.publicJwk }, alg), {
				typ: 'dpop+jwt',
				algorithms: [alg],
			});
			expect(protectedHeader.alg).toBe(alg);
			expect(protectedHeader.jwk).toStrictEqual({ ...key.publicJwk });
		},
	);

	it('keeps the stored alg of an RSA key rather than guessing another', async () => {
		const key = await generateDpopKey(['RS256']);
		const imported = await importDpopKey(await exportDpopKey(key));
		expect(imported.alg).toBe('RS256');
	});

	it('imports once through createSigner.fromJwk, with no WebCrypto key and no probe signature', async () => {
		const key = await generateDpopKey();
		const calls: string[] = [];
		const createSigner = Object.assign(
			() => {
				calls.push('createSigner');
				return key.sign;
			},
			{
				fromJwk: (params: Readonly<Record<string, unknown>>, alg: string) => {
					calls.push(`fromJwk ${alg} ${Object.keys(params).sort().join(',')}`);
					return key.sign;
				},
			},
		);
		const imported = await importDpopKey(await exportDpopKey(key), { createSigner });
		// only the key parameters reach the runtime, and nothing signs before the first proof
		expect(calls).toEqual(['fromJwk ES256 crv,d,kty,x,y']);
		expect(imported.publicJwk).toStrictEqual(key.publicJwk);
		await jwtVerify(await createDpopProof(imported, PROOF), EmbeddedJWK, {
			typ: 'dpop+jwt',
			algorithms: ['ES256'],
		});
	});

	it('falls back to one WebCrypto import when fromJwk cannot load the key', async () => {
		const key = await generateDpopKey();
		let created = 0;
		const createSigner = Object.assign(
			(cryptoKey: CryptoKey) => {
				created++;
				expect(cryptoKey.type).toBe('private');
				return key.sign;
			},
			{ fromJwk: () => undefined },
		);
		const imported = await importDpopKey(await exportDpopKey(key), { createSigner });
		expect(created).toBe(1);
		expect(imported.cryptoKey).toBeDefined();
	});

	it('rejects a stored key that is not a valid key with InvalidKeyError', async () => {
		const stored = await exportDpopKey(await generateDpopKey());
		const error = await importDpopKey({ ...stored, d: 'AAAA' }).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(InvalidKeyError);
		expect((error as InvalidKeyError).reason).toBe('invalid_key');
	});

	it('signs through the given createSigner', async () => {
		const key = await generateDpopKey();
		let created = 0;
		const imported = await importDpopKey(await exportDpopKey(key), {
			createSigner: (_cryptoKey, _alg) => {
				created++;
				return key.sign;
			},
		});
		expect(created).toBe(1);
		const proof = await createDpopProof(imported, PROOF);
		await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
	});
});
