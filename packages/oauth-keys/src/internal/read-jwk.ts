import { InvalidKeyError } from '../errors.ts';
import type { PublicJwk } from '../jwk.ts';
import type { SigningAlgorithm } from '../signing-algorithm.ts';
import type { SignerOptions, SigningKey } from '../signing-key.ts';
import { createWebCryptoSigner } from '../webcrypto-signer.ts';
import { parsePrivateJwk } from './parse-private-jwk.ts';
import { publicJwkOf } from './public-jwk-of.ts';
import { resolveJwkAlgorithm } from './resolve-jwk-algorithm.ts';
import { keyParamsOf } from './webcrypto-algorithms.ts';

/** a private JWK, checked, with its algorithm, its key parameters and its public half. */
export interface ReadJwk {
	alg: SigningAlgorithm;
	/** the key parameters alone, for an import. */
	params: Record<string, unknown>;
	publicJwk: PublicJwk;
}

/** checks a private JWK (object or JSON) and reads what an import needs from it. */
export const readJwk = (input: unknown, requested: SigningAlgorithm | undefined): ReadJwk => {
	const jwk = parsePrivateJwk(input);
	const alg = resolveJwkAlgorithm(jwk, requested);
	// import only the key parameters: `key_ops`, `ext` and `use` from other tools would otherwise
	// constrain (or break) the WebCrypto import
	const { kid: _kid, alg: _alg, use: _use, key_ops: _ops, ext: _ext, ...params } = jwk;
	return { alg, params, publicJwk: publicJwkOf(jwk) };
};

/** imports JWK parameters into WebCrypto for `usage`; a key it refuses is an `invalid_key`. */
export const importJwkParams = async (
	params: Record<string, unknown> | PublicJwk,
	alg: SigningAlgorithm,
	usage: 'sign' | 'verify',
): Promise<CryptoKey> => {
	try {
		return await globalThis.crypto.subtle.importKey('jwk', params as JsonWebKey, keyParamsOf(alg), true, [
			usage,
		]);
	} catch {
		// WebCrypto's messages may describe the key data, so only the algorithm is named
		throw new InvalidKeyError('invalid_key', `the JWK is not a valid ${alg} private key`);
	}
};

/** the frozen signing key for a WebCrypto private key, signing through `options.createSigner`. */
export const signingKeyOf = (
	alg: SigningAlgorithm,
	cryptoKey: CryptoKey,
	publicJwk: PublicJwk,
	options: SignerOptions,
): SigningKey => {
	const createSigner = options.createSigner ?? createWebCryptoSigner;
	return Object.freeze({ alg, cryptoKey, publicJwk, sign: createSigner(cryptoKey, alg) });
};
