import { InvalidKeyError } from './errors.ts';
import { parsePrivateJwk } from './internal/parse-private-jwk.ts';
import { publicJwkOf } from './internal/public-jwk-of.ts';
import { resolveJwkAlgorithm } from './internal/resolve-jwk-algorithm.ts';
import { keyParamsOf, signParamsOf } from './internal/webcrypto-algorithms.ts';
import type { SigningAlgorithm } from './signing-algorithm.ts';
import type { SignerOptions, SigningKey } from './signing-key.ts';
import { createWebCryptoSigner } from './webcrypto-signer.ts';

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
	const jwk = parsePrivateJwk(input);
	const alg = resolveJwkAlgorithm(jwk, options.alg);

	// import only the key parameters: `key_ops`, `ext` and `use` from other tools would otherwise
	// constrain (or break) the WebCrypto import.
	const { kid: _kid, alg: _alg, use: _use, key_ops: _ops, ext: _ext, ...params } = jwk;
	const publicJwk = publicJwkOf(jwk);

	const { subtle } = globalThis.crypto;
	const keyParams = keyParamsOf(alg);
	let cryptoKey: CryptoKey;
	let publicKey: CryptoKey;
	try {
		cryptoKey = await subtle.importKey('jwk', params as JsonWebKey, keyParams, true, ['sign']);
		publicKey = await subtle.importKey('jwk', publicJwk as JsonWebKey, keyParams, true, ['verify']);
	} catch {
		// WebCrypto's messages may describe the key data, so only the algorithm is named
		throw new InvalidKeyError('invalid_key', `the JWK is not a valid ${alg} private key`);
	}

	// a private key whose public parameters belong to another key would sign assertions that the
	// server verifies against the wrong published key; catch that here, once.
	const params_ = signParamsOf(alg);
	const signature = await subtle.sign(params_, cryptoKey, PROBE);
	if (!(await subtle.verify(params_, publicKey, signature, PROBE))) {
		throw new InvalidKeyError('key_mismatch', 'the JWK private key does not match its public parameters');
	}

	const createSigner = options.createSigner ?? createWebCryptoSigner;
	return Object.freeze({ alg, cryptoKey, publicJwk, sign: createSigner(cryptoKey, alg) });
};
