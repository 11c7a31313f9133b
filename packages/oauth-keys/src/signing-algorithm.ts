/** a JWS algorithm a client key or DPoP key can sign with. */
export type SigningAlgorithm =
	| 'ES256'
	| 'ES384'
	| 'ES512'
	| 'PS256'
	| 'PS384'
	| 'PS512'
	| 'RS256'
	| 'RS384'
	| 'RS512';

/**
 * every supported algorithm, most preferred first: ES256 is the one atproto requires every server
 * to support, then shorter signatures before longer ones.
 */
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = Object.freeze([
	'ES256',
	'ES384',
	'ES512',
	'PS256',
	'PS384',
	'PS512',
	'RS256',
	'RS384',
	'RS512',
]);

/** whether `value` names a supported signing algorithm. */
export const isSigningAlgorithm = (value: unknown): value is SigningAlgorithm => {
	return typeof value === 'string' && (SIGNING_ALGORITHMS as readonly string[]).includes(value);
};

/** the preference rank of an algorithm (lower is preferred). */
export const algorithmRank = (alg: SigningAlgorithm): number => {
	return SIGNING_ALGORITHMS.indexOf(alg);
};
