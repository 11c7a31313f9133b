import { generateKeyPairSync, verify } from 'node:crypto';

import { createDpopProof, exportDpopKey, importDpopKey, type Secp256k1PrivateJwk } from '@atcute/oauth-dpop';
import { decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';

import { InvalidKeyError } from './index.ts';
import { createNodeSigner } from './node-signer.ts';

/** a secp256k1 private JWK, as @atproto/oauth-client-node stores its DPoP keys, with our alg. */
const secp256k1Jwk = () => {
	const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
	const { kty, crv, x, y, d } = privateKey.export({ format: 'jwk' }) as Record<string, string>;
	return { kty, crv, x, y, d, alg: 'ES256K' } as Secp256k1PrivateJwk;
};

/** whether `jwt`'s ES256K signature verifies with the public key in its own header. */
const verifiesWithHeaderKey = (jwt: string): boolean => {
	// jose's web build has no ES256K: node:crypto verifies, as the reference server's jose does
	const [header, payload, signature] = jwt.split('.') as [string, string, string];
	const { jwk } = decodeProtectedHeader(jwt) as { jwk: Record<string, string> };
	return verify(
		'sha256',
		Buffer.from(`${header}.${payload}`),
		{ key: jwk as never, format: 'jwk', dsaEncoding: 'ieee-p1363' },
		Buffer.from(signature, 'base64url'),
	);
};

describe('createNodeSigner with an ES256K DPoP key (a session from @atproto/oauth-client-node)', () => {
	it('restores it through node:crypto, signing proofs that verify, every time', async () => {
		const jwk = secp256k1Jwk();
		const key = await importDpopKey(jwk, { createSigner: createNodeSigner });
		expect(key.alg).toBe('ES256K');
		for (let i = 0; i < 20; i++) {
			const proof = await createDpopProof(key, { htm: 'POST', htu: 'https://as.example/oauth/token' });
			expect(decodeProtectedHeader(proof)).toMatchObject({
				alg: 'ES256K',
				jwk: { crv: 'secp256k1', x: jwk.x },
			});
			expect(verifiesWithHeaderKey(proof)).toBe(true);
		}
		expect(await exportDpopKey(key)).toEqual(jwk);
	});

	it("refuses a key whose x and y are another key's: every proof would fail at the server", async () => {
		const jwk = secp256k1Jwk();
		const other = secp256k1Jwk();
		const error = await importDpopKey(
			{ ...jwk, x: other.x, y: other.y },
			{ createSigner: createNodeSigner },
		).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(InvalidKeyError);
		expect((error as InvalidKeyError).reason).toBe('key_mismatch');
	});

	it('refuses a point that is not on the curve (invalid_key), or a private scalar out of range (key_mismatch)', async () => {
		const jwk = secp256k1Jwk();
		const other = secp256k1Jwk();
		// the order of secp256k1 and above are no private key; neither is zero
		const order = Buffer.from('FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141', 'hex');
		for (const [bad, reason] of [
			[{ ...jwk, y: other.y }, 'invalid_key'],
			[{ ...jwk, d: order.toString('base64url') }, 'key_mismatch'],
			[{ ...jwk, d: Buffer.alloc(32).toString('base64url') }, 'key_mismatch'],
		] as const) {
			const error = await importDpopKey(bad, { createSigner: createNodeSigner }).catch((err: unknown) => err);
			expect(error).toBeInstanceOf(InvalidKeyError);
			expect((error as InvalidKeyError).reason).toBe(reason);
			expect((error as Error).message).not.toContain(jwk.d);
		}
	});

	it('signs in the low-S form only, which strict verifiers require (s at most half the order)', async () => {
		const order = BigInt('0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141');
		const key = await importDpopKey(secp256k1Jwk(), { createSigner: createNodeSigner });
		// OpenSSL picks either form at random: 64 signatures all low by chance is 1 in 2^64
		for (let i = 0; i < 64; i++) {
			const proof = await createDpopProof(key, { htm: 'GET', htu: 'https://pds.example/xrpc/x' });
			const signature = Buffer.from(proof.split('.')[2]!, 'base64url');
			expect(signature.length).toBe(64);
			const s = BigInt(`0x${signature.subarray(32).toString('hex')}`);
			expect(s > 0n && s <= order / 2n).toBe(true);
			// and the signature still verifies
			expect(verifiesWithHeaderKey(proof)).toBe(true);
		}
	});
});
