import { base64url, compactVerify, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';

import { InvalidKeyError } from './errors.ts';
import { generatePrivateKey } from './generate-private-key.ts';
import { generateSigningKey } from './generate-signing-key.ts';
import type { PublicJwk } from './jwk.ts';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './signing-algorithm.ts';
import type { CreateSigner, SignFunction } from './signing-key.ts';

const encoder = new TextEncoder();

/** builds a compact JWS by hand (not through the package's jwt.ts) with `sign`, for jose to verify. */
const signCompact = async (sign: SignFunction, alg: string): Promise<string> => {
	const input = `${base64url.encode(JSON.stringify({ alg }))}.${base64url.encode('probe payload')}`;
	const signature = await sign(encoder.encode(input));
	return `${input}.${base64url.encode(signature)}`;
};

const verifyCompact = async (jws: string, publicJwk: Readonly<PublicJwk>, alg: string): Promise<string> => {
	const publicKey = await importJWK({ ...publicJwk }, alg);
	const { payload, protectedHeader } = await compactVerify(jws, publicKey, { algorithms: [alg] });
	expect(protectedHeader.alg).toBe(alg);
	return new TextDecoder().decode(payload);
};

/** raw JWS signature lengths (r || s) for ECDSA, as RFC 7518 §3.4 requires. */
const EC_SIGNATURE_BYTES: Partial<Record<SigningAlgorithm, number>> = { ES256: 64, ES384: 96, ES512: 132 };
const EC_CURVES: Partial<Record<SigningAlgorithm, string>> = {
	ES256: 'P-256',
	ES384: 'P-384',
	ES512: 'P-521',
};

describe('generatePrivateKey', () => {
	for (const alg of SIGNING_ALGORITHMS) {
		it(`generates a ${alg} key whose signatures verify against its public JWK`, async () => {
			const key = await generatePrivateKey(`kid-${alg}`, alg);

			expect(key.alg).toBe(alg);
			expect(key.kid).toBe(`kid-${alg}`);
			expect(key.cryptoKey.type).toBe('private');
			expect(key.cryptoKey.extractable).toBe(true);

			const curve = EC_CURVES[alg];
			if (curve !== undefined) {
				expect(Object.keys(key.publicJwk).sort()).toEqual(['crv', 'kty', 'x', 'y']);
				expect(key.publicJwk).toMatchObject({ kty: 'EC', crv: curve });
			} else {
				expect(Object.keys(key.publicJwk).sort()).toEqual(['e', 'kty', 'n']);
				expect(key.publicJwk).toMatchObject({ kty: 'RSA', e: 'AQAB' });
				// a 2048-bit modulus is 256 bytes, 342 base64url characters
				expect((key.publicJwk as { n: string }).n).toHaveLength(342);
			}
			expect(key.publicJwk).not.toHaveProperty('d');

			const signature = await key.sign(encoder.encode('abc'));
			const expectedLength = EC_SIGNATURE_BYTES[alg];
			if (expectedLength !== undefined) {
				expect(signature.byteLength).toBe(expectedLength);
			} else {
				expect(signature.byteLength).toBe(256);
			}

			const jws = await signCompact(key.sign, alg);
			await expect(verifyCompact(jws, key.publicJwk, alg)).resolves.toBe('probe payload');
		});
	}

	it('defaults to ES256', async () => {
		const key = await generatePrivateKey('default');
		expect(key.alg).toBe('ES256');
		expect(key.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
	});

	it('generates a different key every time', async () => {
		const a = await generatePrivateKey('a');
		const b = await generatePrivateKey('b');
		expect(a.publicJwk).not.toEqual(b.publicJwk);

		// a's signature does not verify against b's public key
		const jws = await signCompact(a.sign, 'ES256');
		await expect(verifyCompact(jws, b.publicJwk, 'ES256')).rejects.toThrow();
	});

	it('rejects an empty kid with reason missing_kid', async () => {
		const error = await generatePrivateKey('').catch((e: unknown) => e);
		expect(error).toBeInstanceOf(InvalidKeyError);
		expect((error as InvalidKeyError).reason).toBe('missing_kid');
	});

	it('rejects a non-string kid with reason missing_kid', async () => {
		const error = await generatePrivateKey(42 as unknown as string).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(InvalidKeyError);
		expect((error as InvalidKeyError).reason).toBe('missing_kid');
	});

	it('rejects an unsupported algorithm with reason unsupported_alg', async () => {
		for (const alg of ['HS256', 'none', 'EdDSA', 'es256']) {
			const error = await generatePrivateKey('k', alg as SigningAlgorithm).catch((e: unknown) => e);
			expect(error).toBeInstanceOf(InvalidKeyError);
			expect((error as InvalidKeyError).reason).toBe('unsupported_alg');
			expect((error as InvalidKeyError).code).toBe('ERR_INVALID_KEY');
		}
	});

	it('signs through options.createSigner when given', async () => {
		const calls: [CryptoKey, SigningAlgorithm][] = [];
		const fakeSign: SignFunction = () => new Uint8Array([1, 2, 3]);
		const createSigner: CreateSigner = (cryptoKey, alg) => {
			calls.push([cryptoKey, alg]);
			return fakeSign;
		};

		const key = await generatePrivateKey('custom', 'ES384', { createSigner });
		expect(key.sign).toBe(fakeSign);
		expect(calls).toEqual([[key.cryptoKey, 'ES384']]);
	});

	it('takes createSigner: undefined as absent (typed so under exactOptionalPropertyTypes)', async () => {
		// an option passed on from the app's own optional setting
		const maybeSigner = undefined as CreateSigner | undefined;
		const key = await generatePrivateKey('plain', 'ES256', { createSigner: maybeSigner });
		const jws = await signCompact(key.sign, 'ES256');
		await expect(verifyCompact(jws, key.publicJwk, 'ES256')).resolves.toBe('probe payload');
	});
});

describe('generateSigningKey', () => {
	it('generates an ES256 key without a kid by default', async () => {
		const key = await generateSigningKey();
		expect(key.alg).toBe('ES256');
		expect(key).not.toHaveProperty('kid');

		const jws = await signCompact(key.sign, 'ES256');
		await expect(verifyCompact(jws, key.publicJwk, 'ES256')).resolves.toBe('probe payload');
	});

	it('rejects an unsupported algorithm with reason unsupported_alg', async () => {
		const error = await generateSigningKey('HS256' as SigningAlgorithm).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(InvalidKeyError);
		expect((error as InvalidKeyError).reason).toBe('unsupported_alg');
	});
});
