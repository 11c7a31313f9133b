import { describe, expect, it } from 'vitest';

import { createNodeSigner } from './node-signer.ts';

// its own file: whether node:crypto signs here is learnt once per module instance, and this
// must be the first key the module sees
describe('createNodeSigner given a key that cannot sign first', () => {
	it('refuses the public key at signing, and still signs later keys with node:crypto', async () => {
		const { subtle } = globalThis.crypto;
		const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
		const pair = await subtle.generateKey(algorithm, true, ['sign', 'verify']);

		const wrong = createNodeSigner(pair.publicKey, 'ES256');
		await expect(Promise.resolve().then(() => wrong(new Uint8Array(8)))).rejects.toThrow();

		const signature = createNodeSigner(pair.privateKey, 'ES256')(new Uint8Array(8));
		// node:crypto signs synchronously; the WebCrypto fallback would give a promise
		expect(signature).toBeInstanceOf(Uint8Array);
		const params = { name: 'ECDSA', hash: 'SHA-256' };
		expect(
			await subtle.verify(params, pair.publicKey, signature as Uint8Array<ArrayBuffer>, new Uint8Array(8)),
		).toBe(true);
	});
});
