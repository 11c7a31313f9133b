import { generateKeyPairSync, sign as nodeSign, verify } from 'node:crypto';

import { InvalidKeyError, type SignerOptions } from '@atcute/oauth-keys';
import { decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';

import { createDpopProof } from './create-dpop-proof.ts';
import { type DpopPrivateJwk, exportDpopKey, importDpopKey } from './dpop-key.ts';

/** a secp256k1 DPoP key as @atproto/oauth-client-node stores one, with the alg we store beside it. */
const secp256k1Jwk = (): DpopPrivateJwk & { alg: 'ES256K' } => {
	const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
	const { kty, crv, x, y, d } = privateKey.export({ format: 'jwk' });
	return { kty, crv, x, y, d, alg: 'ES256K' } as DpopPrivateJwk & { alg: 'ES256K' };
};

/** a stand-in for a runtime's secp256k1 signer: records what it was given. */
const signerOptions = (given: Record<string, string>[] = []): SignerOptions => ({
	createSigner: Object.assign(() => () => new Uint8Array(64), {
		fromSecp256k1Jwk: (params: Readonly<Record<string, string>>) => {
			given.push({ ...params });
			return (data: Uint8Array) =>
				nodeSign('sha256', data, {
					key: { ...params } as never,
					format: 'jwk',
					dsaEncoding: 'ieee-p1363',
				});
		},
	}),
});

const reasonOf = async (promise: Promise<unknown>): Promise<string | undefined> => {
	const error = await promise.then(
		() => undefined,
		(err: unknown) => err,
	);
	expect(error).toBeInstanceOf(InvalidKeyError);
	return (error as InvalidKeyError).reason;
};

describe('importDpopKey with an ES256K key (a session moved from @atproto/oauth-client-node)', () => {
	it("signs through the runtime's secp256k1 signer, given the key members only", async () => {
		const jwk = secp256k1Jwk();
		const given: Record<string, string>[] = [];
		const key = await importDpopKey({ ...jwk, kid: 'k', use: 'sig' } as DpopPrivateJwk, signerOptions(given));
		expect(key.alg).toBe('ES256K');
		expect(key.publicJwk).toEqual({ kty: 'EC', crv: 'secp256k1', x: jwk.x, y: jwk.y });
		expect(given).toEqual([{ kty: 'EC', crv: 'secp256k1', x: jwk.x, y: jwk.y, d: jwk.d }]);

		const proof = await createDpopProof(key, { htm: 'GET', htu: 'https://pds.example/xrpc/x' });
		expect(decodeProtectedHeader(proof)).toEqual({
			typ: 'dpop+jwt',
			alg: 'ES256K',
			jwk: { kty: 'EC', crv: 'secp256k1', x: jwk.x, y: jwk.y },
		});
		// jose's web build has no ES256K: verified with node:crypto and the header's public key
		const [header, payload, signature] = proof.split('.') as [string, string, string];
		const publicKey = { key: { kty: 'EC', crv: 'secp256k1', x: jwk.x, y: jwk.y }, format: 'jwk' as const };
		const valid = verify(
			'sha256',
			Buffer.from(`${header}.${payload}`),
			{ ...publicKey, dsaEncoding: 'ieee-p1363' },
			Buffer.from(signature, 'base64url'),
		);
		expect(valid).toBe(true);
		// stored again exactly as it was read
		expect(await exportDpopKey(key)).toEqual({ ...jwk, kid: 'k', use: 'sig' });
	});

	it('says where such a key can be restored when the runtime has no secp256k1 signer', async () => {
		const jwk = secp256k1Jwk();
		const error = await importDpopKey(jwk).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(InvalidKeyError);
		expect((error as InvalidKeyError).reason).toBe('unsupported_alg');
		expect((error as Error).message).toContain('@atcute/oauth-node-client on Node');
		// a signer without the hook, or one that cannot, says the same
		const without: SignerOptions = { createSigner: Object.assign(() => () => new Uint8Array(64), {}) };
		expect(await reasonOf(importDpopKey(jwk, without))).toBe('unsupported_alg');
		const cannot: SignerOptions = {
			createSigner: Object.assign(() => () => new Uint8Array(64), { fromSecp256k1Jwk: () => undefined }),
		};
		expect(await reasonOf(importDpopKey(jwk, cannot))).toBe('unsupported_alg');
	});

	it('refuses a key on another curve, or not EC', async () => {
		const jwk = secp256k1Jwk();
		const given: Record<string, string>[] = [];
		for (const wrong of [
			{ ...jwk, crv: 'P-256' },
			{ ...jwk, kty: 'RSA' },
		]) {
			expect(await reasonOf(importDpopKey(wrong as DpopPrivateJwk, signerOptions(given)))).toBe(
				'alg_mismatch',
			);
		}
		expect(given).toEqual([]);
	});

	it('refuses members that are not the canonical base64url of 32 bytes, naming the member only', async () => {
		const jwk = secp256k1Jwk();
		const given: Record<string, string>[] = [];
		const cases: [keyof typeof jwk, unknown][] = [
			['x', undefined],
			['y', 42],
			['d', `${jwk.d}A`],
			['x', jwk.x.slice(1)],
			['y', `${jwk.y.slice(0, 42)}B`],
			['d', `${jwk.d.slice(0, 42)}=`],
			['x', `${jwk.x.slice(0, 41)}+${jwk.x[42]}`],
		];
		for (const [field, value] of cases) {
			const error = await importDpopKey(
				{ ...jwk, [field]: value } as DpopPrivateJwk,
				signerOptions(given),
			).catch((err: unknown) => err);
			expect(error, `${field} = ${String(value)}`).toBeInstanceOf(InvalidKeyError);
			expect((error as InvalidKeyError).reason).toBe('invalid_key');
			expect((error as Error).message).toContain(`"${field}"`);
			expect((error as Error).message).not.toContain(jwk.d);
		}
		expect(given).toEqual([]);
	});
});
