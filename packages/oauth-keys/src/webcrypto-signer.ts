import { signParamsOf } from './internal/webcrypto-algorithms.ts';
import type { CreateSigner, SignFunction } from './signing-key.ts';

/** the default signer: WebCrypto's `crypto.subtle.sign`, available in every server runtime. */
export const createWebCryptoSigner: CreateSigner = (key, alg) => {
	// hoisted so a signature allocates nothing but its result
	const params = signParamsOf(alg);
	const { subtle } = globalThis.crypto;

	const sign: SignFunction = async (data) => {
		return new Uint8Array(await subtle.sign(params, key, data as Uint8Array<ArrayBuffer>));
	};
	return sign;
};
