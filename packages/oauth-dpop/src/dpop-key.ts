import {
	type EcPrivateJwk,
	exportSigningJwk,
	generateSigningKey,
	importSigningJwk,
	negotiateAlgorithm,
	type RsaPrivateJwk,
	SIGNING_ALGORITHMS,
	type SignerOptions,
	type SigningAlgorithm,
	type SigningKey,
} from '@atcute/oauth-keys';

/** a DPoP key: one per session, bound to one algorithm. */
export type DpopKey = SigningKey;

/** a DPoP private key as stored with a session: key parameters plus `alg`. */
export type DpopPrivateJwk = (EcPrivateJwk | RsaPrivateJwk) & { alg: SigningAlgorithm };

/**
 * generates a fresh DPoP key, with the most preferred algorithm (ES256 first) that the server
 * lists in `dpop_signing_alg_values_supported` (ES256 when the server gives no list).
 * @throws {NoCompatibleKeyError} when the server accepts none of our algorithms
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-5.1
 */
export const generateDpopKey = async (
	supported?: readonly string[],
	options?: SignerOptions,
): Promise<DpopKey> => {
	const alg = negotiateAlgorithm(SIGNING_ALGORITHMS, supported, 'DPoP proofs');
	return generateSigningKey(alg, options);
};

/** exports a DPoP key for storage with its session. the result holds the private key. */
export const exportDpopKey = async (key: DpopKey): Promise<DpopPrivateJwk> => {
	return { ...(await exportSigningJwk(key)), alg: key.alg };
};

/** imports a DPoP key written by `exportDpopKey`. */
export const importDpopKey = async (jwk: DpopPrivateJwk, options?: SignerOptions): Promise<DpopKey> => {
	return importSigningJwk(jwk, { ...options, alg: jwk.alg });
};
