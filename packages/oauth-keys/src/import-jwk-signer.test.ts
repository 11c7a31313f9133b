import { EmbeddedJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';

import { InvalidKeyError } from './errors.ts';
import { exportSigningJwk } from './export-signing-jwk.ts';
import { generateSigningKey } from './generate-signing-key.ts';
import { importJwkSigner } from './import-jwk-signer.ts';
import { encodeJwtSegment, signJwt } from './jwt.ts';
import type { CreateSigner, SignFunction } from './signing-key.ts';
import { createWebCryptoSigner } from './webcrypto-signer.ts';

/** a WebCrypto signer that counts the signatures it makes. */
const counting = () => {
	let signatures = 0;
	const createSigner: CreateSigner = (key, alg) => {
		const sign = createWebCryptoSigner(key, alg);
		const counted: SignFunction = (data) => {
			signatures++;
			return sign(data);
		};
		return counted;
	};
	return { createSigner, count: () => signatures };
};

describe('importJwkSigner', () => {
	it('imports with one WebCrypto import and makes no probe signature', async () => {
		const jwk = await exportSigningJwk(await generateSigningKey('ES256'));
		const { createSigner, count } = counting();
		const key = await importJwkSigner(jwk, { alg: 'ES256', createSigner });
		expect(count()).toBe(0);
		expect(key.cryptoKey?.type).toBe('private');
		expect(key.publicJwk).toStrictEqual({
			kty: 'EC',
			crv: 'P-256',
			x: jwk.kty === 'EC' ? jwk.x : '',
			y: jwk.kty === 'EC' ? jwk.y : '',
		});

		const header = encodeJwtSegment({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk });
		const jwt = await signJwt(header, { iat: 1 }, key.sign);
		expect(count()).toBe(1);
		await jwtVerify(jwt, EmbeddedJWK, { algorithms: ['ES256'], typ: 'dpop+jwt' });
	});

	it('uses createSigner.fromJwk when present, with the key parameters only', async () => {
		const jwk = { ...(await exportSigningJwk(await generateSigningKey('ES256'))), kid: 'k', use: 'sig' };
		const seen: unknown[] = [];
		const fast: SignFunction = () => new Uint8Array(64);
		const createSigner: CreateSigner = Object.assign(() => fast, {
			fromJwk: (params: Readonly<Record<string, unknown>>) => {
				seen.push(params);
				return fast;
			},
		});
		const key = await importJwkSigner(jwk, { alg: 'ES256', createSigner });
		expect(key.sign).toBe(fast);
		expect(key.cryptoKey).toBeUndefined();
		expect(Object.keys(seen[0] as object).sort()).toEqual(['crv', 'd', 'kty', 'x', 'y']);
	});

	it('rejects a key that is not valid with InvalidKeyError, never quoting it', async () => {
		const jwk = await exportSigningJwk(await generateSigningKey('ES256'));
		const error = await importJwkSigner({ ...jwk, d: 'AAAA' }, { alg: 'ES256' }).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(InvalidKeyError);
		expect((error as InvalidKeyError).reason).toBe('invalid_key');
		expect((error as Error).message).not.toContain('AAAA');
	});
});
