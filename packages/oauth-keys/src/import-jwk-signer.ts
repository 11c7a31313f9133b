import { InvalidKeyError } from './errors.ts';
import type { ImportSigningJwkOptions } from './import-signing-jwk.ts';
import { parsePrivateJwk } from './internal/parse-private-jwk.ts';
import { publicJwkOf } from './internal/public-jwk-of.ts';
import { resolveJwkAlgorithm } from './internal/resolve-jwk-algorithm.ts';
import { keyParamsOf } from './internal/webcrypto-algorithms.ts';
import type { JwkSigner } from './signing-key.ts';
import { createWebCryptoSigner } from './webcrypto-signer.ts';

/**
 * loads a stored private JWK for signing in ONE import: the runtime's `createSigner.fromJwk` when
 * it has one (node:crypto), else one WebCrypto import. unlike `importSigningJwk` it runs no
 * sign-and-verify probe, so use it only for keys whose pair was checked when they were made
 * (a DPoP key this library generated and stored with its session); a key loaded this way whose
 * public half does not match fails closed: servers reject its signatures.
 */
export const importJwkSigner = async (
	input: unknown,
	options: ImportSigningJwkOptions = {},
): Promise<JwkSigner> => {
	const jwk = parsePrivateJwk(input);
	const alg = resolveJwkAlgorithm(jwk, options.alg);
	// only the key parameters: `key_ops`, `ext` and `use` from other tools would otherwise
	// constrain (or break) the import
	const { kid: _kid, alg: _alg, use: _use, key_ops: _ops, ext: _ext, ...params } = jwk;
	const publicJwk = publicJwkOf(jwk);

	const fromJwk = options.createSigner?.fromJwk;
	if (fromJwk !== undefined) {
		let sign: JwkSigner['sign'] | undefined;
		try {
			sign = fromJwk(params, alg);
		} catch {
			// a key the runtime refuses: WebCrypto below gives the typed error
		}
		if (sign !== undefined) return Object.freeze({ alg, publicJwk, sign });
	}

	let cryptoKey: CryptoKey;
	try {
		cryptoKey = await globalThis.crypto.subtle.importKey(
			'jwk',
			params as JsonWebKey,
			keyParamsOf(alg),
			true,
			['sign'],
		);
	} catch {
		// WebCrypto's messages may describe the key data, so only the algorithm is named
		throw new InvalidKeyError('invalid_key', `the JWK is not a valid ${alg} private key`);
	}
	const createSigner = options.createSigner ?? createWebCryptoSigner;
	return Object.freeze({ alg, cryptoKey, publicJwk, sign: createSigner(cryptoKey, alg) });
};
