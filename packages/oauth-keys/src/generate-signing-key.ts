import { publicJwkOf } from './internal/public-jwk-of.ts';
import { signingKeyOf } from './internal/read-jwk.ts';
import { checkSigningAlgorithm } from './internal/resolve-jwk-algorithm.ts';
import { keyParamsOf } from './internal/webcrypto-algorithms.ts';
import type { SigningAlgorithm } from './signing-algorithm.ts';
import type { SignerOptions, SigningKey } from './signing-key.ts';

/** RSA modulus for generated keys: the NIST minimum still accepted everywhere. */
const RSA_MODULUS_LENGTH = 2048;

/** generates a fresh private key for `alg`, extractable so it can be stored. */
export const generateSigningKey = async (
	alg: SigningAlgorithm = 'ES256',
	options: SignerOptions = {},
): Promise<SigningKey> => {
	checkSigningAlgorithm(alg);

	const params = keyParamsOf(alg);
	const { privateKey, publicKey } = (await globalThis.crypto.subtle.generateKey(
		(params.name === 'ECDSA'
			? params
			: // the usual public exponent, 65537
				{ ...params, modulusLength: RSA_MODULUS_LENGTH, publicExponent: new Uint8Array([1, 0, 1]) }) as
			| EcKeyGenParams
			| RsaHashedKeyGenParams,
		true,
		['sign', 'verify'],
	)) as CryptoKeyPair;
	const publicJwk = publicJwkOf(
		(await globalThis.crypto.subtle.exportKey('jwk', publicKey)) as Record<string, unknown>,
	);
	return signingKeyOf(alg, privateKey, publicJwk, options);
};
