import { describe, expect, it } from 'vitest';

import { InvalidKeyError } from './errors.ts';
import { importJwkKey } from './import-jwk-key.ts';
import { importJwkSigner } from './import-jwk-signer.ts';
import { Keyset } from './keyset.ts';

/** a WebCrypto RS256 private JWK of `bits`, with `kid`. */
const rsaJwk = async (bits: number): Promise<Record<string, unknown>> => {
	const pair = (await globalThis.crypto.subtle.generateKey(
		{
			name: 'RSASSA-PKCS1-v1_5',
			modulusLength: bits,
			publicExponent: new Uint8Array([1, 0, 1]),
			hash: 'SHA-256',
		},
		true,
		['sign', 'verify'],
	)) as CryptoKeyPair;
	const jwk = (await globalThis.crypto.subtle.exportKey('jwk', pair.privateKey)) as Record<string, unknown>;
	return { ...jwk, kid: 'k' };
};

/** `field` of `jwk` with `zeros` zero bytes in front: the same integer, not in its shortest form. */
const zeroPadded = (jwk: Record<string, unknown>, field: string, zeros: number): Record<string, unknown> => {
	const bytes = Buffer.from(jwk[field] as string, 'base64url');
	return { ...jwk, [field]: Buffer.concat([Buffer.alloc(zeros), bytes]).toString('base64url') };
};

const rejection = async (promise: Promise<unknown>): Promise<InvalidKeyError> => {
	const error = await promise.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(InvalidKeyError);
	return error as InvalidKeyError;
};

describe('RSA JWK integer encoding', () => {
	it('refuses a 1024-bit key whose n is padded with zero bytes to look like 2048 bits', async () => {
		const padded = zeroPadded(await rsaJwk(1024), 'n', 128);
		const error = await rejection(importJwkKey(padded));
		expect(error.reason).toBe('invalid_key');
		expect(error.message).toMatch(/"n"/);
		expect(error.message).not.toContain(padded.n as string);
		await expect(importJwkSigner(padded)).rejects.toMatchObject({ reason: 'invalid_key' });
	});

	it('refuses a strong key whose n or e is not in its shortest form, naming the field', async () => {
		const jwk = await rsaJwk(2048);
		const n = await rejection(importJwkKey(zeroPadded(jwk, 'n', 1)));
		expect(n.reason).toBe('invalid_key');
		expect(n.message).toMatch(/"n"/);
		const e = await rejection(importJwkKey(zeroPadded(jwk, 'e', 1)));
		expect(e.reason).toBe('invalid_key');
		expect(e.message).toMatch(/"e"/);
	});

	it('refuses n or e that is not base64url', async () => {
		const jwk = await rsaJwk(2048);
		for (const [field, value] of [
			['n', `${jwk.n}=`],
			['n', ''],
			['e', 'AQ+B'],
		] as const) {
			const error = await rejection(importJwkKey({ ...jwk, [field]: value }));
			expect(error.reason).toBe('invalid_key');
			expect(error.message).toMatch(new RegExp(`"${field}"`));
		}
	});

	it('still refuses an unpadded 1024-bit key as weak_key, and publishes a 2048-bit key as given', async () => {
		const weak = await rejection(importJwkKey(await rsaJwk(1024)));
		expect(weak.reason).toBe('weak_key');
		expect(weak.message).toMatch(/1024 bits/);

		const jwk = await rsaJwk(2048);
		const key = await importJwkKey(jwk);
		const [published] = new Keyset([key]).publicJwks.keys as unknown as Record<string, string>[];
		expect(published!.n).toBe(jwk.n);
		expect(Buffer.from(published!.n!, 'base64url').length).toBe(256);
	});
});
