import { InvalidKeyError } from './errors.ts';
import { importJwkParams, readJwk, signingKeyOf } from './internal/read-jwk.ts';
import { signParamsOf } from './internal/webcrypto-algorithms.ts';
import type { SigningAlgorithm } from './signing-algorithm.ts';
import type { SignerOptions, SigningKey } from './signing-key.ts';

/** options for `importSigningJwk`. */
export interface ImportSigningJwkOptions extends SignerOptions {
	/** the algorithm to bind the key to; defaults to the JWK's `alg`, else its curve. */
	alg?: SigningAlgorithm | undefined;
}

const PROBE = new TextEncoder().encode('key pair probe');

/**
 * imports a private JWK (an object or its JSON text) as a key bound to one algorithm. the key is
 * checked once here, so a bad key fails at startup rather than at the first sign-in.
 */
export const importSigningJwk = async (
	input: unknown,
	options: ImportSigningJwkOptions = {},
): Promise<SigningKey> => {
	const { alg, params, publicJwk } = readJwk(input, options.alg);
	const cryptoKey = await importJwkParams(params, alg, 'sign');
	const publicKey = await importJwkParams(publicJwk, alg, 'verify');

	// a private key whose public parameters belong to another key would sign assertions that the
	// server verifies against the wrong published key; catch that here, once.
	const { subtle } = globalThis.crypto;
	const signParams = signParamsOf(alg);
	const signature = await subtle.sign(signParams, cryptoKey, PROBE);
	if (!(await subtle.verify(signParams, publicKey, signature, PROBE))) {
		throw new InvalidKeyError('key_mismatch', 'the JWK private key does not match its public parameters');
	}
	return signingKeyOf(alg, cryptoKey, publicJwk, options);
};
