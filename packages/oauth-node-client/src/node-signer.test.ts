import { createDpopProof, exportDpopKey, generateDpopKey, importDpopKey } from '@atcute/oauth-dpop';
import { createClientAssertion, SIGNING_ALGORITHMS } from '@atcute/oauth-keys';
import { decodeProtectedHeader, EmbeddedJWK, importJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { generatePrivateKey, Keyset } from './index.ts';
import { createNodeSigner } from './node-signer.ts';

describe('createNodeSigner', () => {
	for (const alg of SIGNING_ALGORITHMS) {
		it(`makes ${alg} signatures that jose verifies`, async () => {
			const key = await generatePrivateKey(`k-${alg}`, alg);
			const jwt = await createClientAssertion(key, {
				clientId: 'https://app.example/meta.json',
				audience: 'https://as.example',
			});

			const [published] = new Keyset([key]).publicJwks.keys;
			const { payload } = await jwtVerify(jwt, await importJWK(published!, alg), {
				algorithms: [alg],
				audience: 'https://as.example',
				issuer: 'https://app.example/meta.json',
			});
			expect(payload.sub).toBe('https://app.example/meta.json');
			expect(decodeProtectedHeader(jwt)).toMatchObject({ alg, kid: `k-${alg}` });
		});
	}

	for (const alg of ['ES256', 'PS256', 'RS256'] as const) {
		it(`restores a stored ${alg} DPoP key through node:crypto in one import, signing proofs jose verifies`, async () => {
			const stored = await exportDpopKey(await generateDpopKey([alg]));
			const restored = await importDpopKey(stored, { createSigner: createNodeSigner });
			// the node:crypto path made no WebCrypto key
			expect(restored.cryptoKey).toBeUndefined();
			const proof = await createDpopProof(restored, { htm: 'GET', htu: 'https://pds.example/xrpc/x' });
			const { payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [alg] });
			expect(payload.htu).toBe('https://pds.example/xrpc/x');
		});
	}

	it('leaves a key node:crypto refuses to WebCrypto, which reports it', async () => {
		expect(
			createNodeSigner.fromJwk?.({ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', d: 'AA' }, 'ES256'),
		).toBeUndefined();
		// an EC key offered for an RSA algorithm is refused as well
		const { alg: _alg, ...ec } = await exportDpopKey(await generateDpopKey());
		expect(createNodeSigner.fromJwk?.(ec, 'PS256')).toBeUndefined();
	});

	it('signs synchronously, without a promise', async () => {
		const key = await generatePrivateKey('sync');
		const signature = key.sign(new Uint8Array([1, 2, 3]));
		expect(signature).toBeInstanceOf(Uint8Array);
		// ES256 in JWS form is r || s, 64 bytes, not DER
		expect((signature as Uint8Array).byteLength).toBe(64);
	});

	it('falls back to the WebCrypto signer when node:crypto cannot convert the key', async () => {
		// KeyObject.from throws on this; the node path would throw right here, at creation
		const notAKey = { type: 'private' } as unknown as CryptoKey;
		const sign = createNodeSigner(notAKey, 'ES256');
		// the WebCrypto signer is async and fails only when used
		await expect(Promise.resolve().then(() => sign(new Uint8Array([1])))).rejects.toThrow();
	});
});
