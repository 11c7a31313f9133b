import { importSigningJwk } from './import-signing-jwk.ts';
import { parsePrivateJwk } from './internal/parse-private-jwk.ts';
import type { PrivateJwk } from './jwk.ts';
import { checkKid, type PrivateKey, toPrivateKey } from './private-key.ts';
import type { SigningAlgorithm } from './signing-algorithm.ts';
import type { SignerOptions } from './signing-key.ts';

/** options for `importJwkKey`. */
export interface ImportJwkKeyOptions extends SignerOptions {
	/** the key id; defaults to the JWK's `kid`. one of the two is required. */
	kid?: string | undefined;
	/** the algorithm; defaults to the JWK's `alg`, else (EC keys) the one its curve implies. */
	alg?: SigningAlgorithm | undefined;
}

/**
 * imports a client private key from a JWK object or its JSON text (as kept in an environment
 * variable). throws an `InvalidKeyError` naming the problem: malformed JSON, a public key, no
 * `kid`, an `alg` that does not fit the key, ...
 */
export const importJwkKey = async (
	jwk: PrivateJwk | Record<string, unknown> | string,
	options: ImportJwkKeyOptions = {},
): Promise<PrivateKey> => {
	if (typeof options !== 'object' || options === null) {
		throw new TypeError(
			`importJwkKey options must be an object ({ kid?, alg?, createSigner? }), got ${options === null ? 'null' : typeof options}`,
		);
	}
	const record = parsePrivateJwk(jwk);
	// check the kid first: it is the cheaper mistake to report
	const kid = checkKid(options.kid ?? record.kid);

	const key = await importSigningJwk(record, options);
	return toPrivateKey(key, kid);
};
