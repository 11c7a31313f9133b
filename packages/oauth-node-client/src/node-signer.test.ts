import { KeyObject } from 'node:crypto';

import { createDpopProof, exportDpopKey, generateDpopKey, importDpopKey } from '@atcute/oauth-dpop';
import { createClientAssertion, SIGNING_ALGORITHMS } from '@atcute/oauth-keys';
import { decodeProtectedHeader, EmbeddedJWK, importJWK, jwtVerify } from 'jose';
import { describe, expect, it, vi } from 'vitest';
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

	for (const [alg, crv] of [
		['ES256', 'P-256'],
		['ES384', 'P-384'],
		['ES512', 'P-521'],
	] as const) {
		it(`generates a ${alg} DPoP key in node:crypto whose proofs jose verifies, and which stores and restores`, async () => {
			const key = await generateDpopKey([alg], { createSigner: createNodeSigner });
			// node:crypto made it: no WebCrypto key
			expect(key.cryptoKey).toBeUndefined();
			expect(key.publicJwk).toMatchObject({ kty: 'EC', crv });
			const htu = 'https://pds.example/xrpc/x';
			const { payload, protectedHeader } = await jwtVerify(
				await createDpopProof(key, { htm: 'GET', htu }),
				EmbeddedJWK,
				{ typ: 'dpop+jwt', algorithms: [alg] },
			);
			expect(payload.htu).toBe(htu);
			expect(protectedHeader.jwk).toStrictEqual(key.publicJwk);

			const stored = await exportDpopKey(key);
			expect(Object.keys(stored).sort()).toEqual(['alg', 'crv', 'd', 'kty', 'x', 'y']);
			expect(stored).toMatchObject({ ...key.publicJwk, alg });
			// the stored private part is the key's own: WebCrypto, which checks the pair, signs with it
			const restored = await importDpopKey(stored);
			expect(restored.cryptoKey).toBeDefined();
			await jwtVerify(
				await createDpopProof(restored, { htm: 'GET', htu }),
				await importJWK(key.publicJwk, alg),
				{
					typ: 'dpop+jwt',
					algorithms: [alg],
				},
			);
		});
	}

	it('generates no RSA key in node:crypto (it would hold the event loop), leaving it to WebCrypto', async () => {
		for (const alg of ['PS256', 'RS256'] as const) expect(createNodeSigner.generate?.(alg)).toBeUndefined();
		const key = await generateDpopKey(['PS256'], { createSigner: createNodeSigner });
		expect(key.alg).toBe('PS256');
		expect(key.cryptoKey).toBeDefined();
	});

	it('generates a fresh key every time', async () => {
		const a = createNodeSigner.generate?.('ES256');
		const b = createNodeSigner.generate?.('ES256');
		expect(a?.privateJwk.d).toBeTypeOf('string');
		expect(a?.privateJwk.d).not.toBe(b?.privateJwk.d);
	});

	it('never exports the KeyObject generateKeyPairSync returns (on Node 20 that deadlocks now and then)', () => {
		// one key in 12,000-55,000 froze the process for good; the JWK must come out of the
		// generation itself. what happens inside is Node's: this checks the calls that avoid it
		const crypto = process.getBuiltinModule('node:crypto');
		// `export` lives on the private key's own class, below KeyObject
		let owner: object = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
		while (!Object.hasOwn(owner, 'export')) owner = Object.getPrototypeOf(owner) as object;
		const generated = vi.spyOn(crypto, 'generateKeyPairSync');
		const exported = vi.spyOn(owner as { export: () => unknown }, 'export');
		try {
			for (const alg of ['ES256', 'ES384', 'ES512'] as const) {
				const key = createNodeSigner.generate?.(alg);
				expect(key?.privateJwk.d).toBeTypeOf('string');
			}
			expect(generated).toHaveBeenCalledTimes(3);
			for (const [, options] of generated.mock.calls) {
				expect(options).toMatchObject({ privateKeyEncoding: { format: 'jwk' } });
			}
			expect(exported).not.toHaveBeenCalled();
		} finally {
			generated.mockRestore();
			exported.mockRestore();
		}
	});

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
		const { privateKey, publicKey } = await crypto.subtle.generateKey(
			{ name: 'ECDSA', namedCurve: 'P-256' },
			false,
			['sign', 'verify'],
		);
		// as on a runtime whose node:crypto takes no CryptoKey (workerd's nodejs_compat)
		const from = vi.spyOn(KeyObject, 'from').mockImplementation(() => {
			throw new TypeError('not supported here');
		});
		try {
			const sign = createNodeSigner(privateKey, 'ES256');
			expect(from).toHaveBeenCalledTimes(1);
			const data = new Uint8Array([1, 2, 3]);
			const signature = sign(data);
			// WebCrypto's signer is asynchronous, and its signature is good
			expect(signature).toBeInstanceOf(Promise);
			const valid = await crypto.subtle.verify(
				{ name: 'ECDSA', hash: 'SHA-256' },
				publicKey,
				(await signature) as Uint8Array<ArrayBuffer>,
				data,
			);
			expect(valid).toBe(true);
		} finally {
			from.mockRestore();
		}
	});
});
