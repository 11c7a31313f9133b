import { describe, expect, it } from 'vitest';

import { generatePrivateKey } from './generate-private-key.ts';
import type { SigningAlgorithm } from './signing-algorithm.ts';
import { type CreateSigner, type SignFunction, withSigner } from './signing-key.ts';

describe('withSigner', () => {
	it('returns a key that signs with the given signer, built from the key and its alg', async () => {
		const key = await generatePrivateKey('main', 'ES384');
		const originalSign = key.sign;

		const calls: [CryptoKey, SigningAlgorithm][] = [];
		const fakeSign: SignFunction = () => new Uint8Array([42]);
		const fakeCreateSigner: CreateSigner = (cryptoKey, alg) => {
			calls.push([cryptoKey, alg]);
			return fakeSign;
		};

		const custom = withSigner(key, fakeCreateSigner);

		expect(custom.sign).toBe(fakeSign);
		expect(calls).toEqual([[key.cryptoKey, 'ES384']]);
		expect(calls[0]![0]).toBe(key.cryptoKey);
		expect(await custom.sign(new Uint8Array([1]))).toEqual(new Uint8Array([42]));

		// everything else is carried over
		expect(custom).not.toBe(key);
		expect(custom.kid).toBe('main');
		expect(custom.alg).toBe('ES384');
		expect(custom.cryptoKey).toBe(key.cryptoKey);
		expect(custom.publicJwk).toEqual(key.publicJwk);

		// and the original key is untouched
		expect(key.sign).toBe(originalSign);
		expect(key.sign).not.toBe(fakeSign);
		const signature = await key.sign(new Uint8Array([1]));
		expect(signature.byteLength).toBe(96);
	});
});
