import { InvalidKeyError } from '../errors.ts';
import type { PublicJwk } from '../jwk.ts';
import type { SigningAlgorithm } from '../signing-algorithm.ts';
import type { SignerOptions, SigningKey } from '../signing-key.ts';
import { createWebCryptoSigner } from '../webcrypto-signer.ts';
import { parsePrivateJwk } from './parse-private-jwk.ts';
import { publicJwkOf } from './public-jwk-of.ts';
import { resolveJwkAlgorithm } from './resolve-jwk-algorithm.ts';
import { keyParamsOf, keyTypeOf } from './webcrypto-algorithms.ts';

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

const importJwk = (params: object, alg: SigningAlgorithm, usage: 'sign' | 'verify'): Promise<CryptoKey> =>
	globalThis.crypto.subtle.importKey('jwk', params as JsonWebKey, keyParamsOf(alg), true, [usage]);

/**
 * imports JWK parameters into WebCrypto for `usage`; a key it refuses is an `invalid_key`, or a
 * `key_mismatch` for an EC private key whose public part alone imports (its `d` is not the private
 * key of its `x` and `y`, which WebCrypto checks at import; an RSA pair is checked by the probe
 * signature in `importSigningJwk`).
 */
export const importJwkParams = async (
	params: Record<string, unknown> | PublicJwk,
	alg: SigningAlgorithm,
	usage: 'sign' | 'verify',
): Promise<CryptoKey> => {
	try {
		return await importJwk(params, alg, usage);
	} catch {
		// only the error path pays for this second import
		if (
			usage === 'sign' &&
			keyTypeOf(alg) === 'EC' &&
			(await importJwk(publicJwkOf(params as Record<string, unknown>), alg, 'verify').then(
				() => true,
				() => false,
			))
		) {
			throw new InvalidKeyError(
				'key_mismatch',
				'the JWK private key does not match its public parameters ("d" is not the private key of "x" and "y")',
			);
		}
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
