import type { ImportSigningJwkOptions } from './import-signing-jwk.ts';
import { importJwkParams, readJwk, signingKeyOf } from './internal/read-jwk.ts';
import type { JwkSigner } from './signing-key.ts';

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
	const { alg, params, publicJwk } = readJwk(input, options.alg);

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
	return signingKeyOf(alg, await importJwkParams(params, alg, 'sign'), publicJwk, options);
};
