import type { ClientAuthMethod } from '@atcute/oauth-client';
import type { DpopAlgorithm, DpopPrivateJwk } from '@atcute/oauth-dpop';

// what the official client's stored sessions and states share: its DPoP key and client
// authentication, read the same way for both, with errors named after the conversion

export const isObject = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * the algorithm of each curve a DPoP key may be on (RFC 7518 §3.4, RFC 8812 §3.2). a Map: a curve
 * named after an object's own member ("constructor") finds nothing.
 */
const ALG_BY_CURVE: ReadonlyMap<unknown, DpopAlgorithm> = new Map([
	['P-256', 'ES256'],
	['P-384', 'ES384'],
	['P-521', 'ES512'],
	['secp256k1', 'ES256K'],
]);

const RSA_ALGS: ReadonlySet<unknown> = new Set(['PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512']);

/** throws a `TypeError` for `problem`, under the name of the conversion that met it. */
export type Fail = (problem: string) => never;

export const failIn =
	(conversion: string): Fail =>
	(problem) => {
		throw new TypeError(`${conversion}: ${problem}`);
	};

/** the members of `jwk` named in `fields`, each a non-empty string; messages never quote values. */
const keyMembers = (
	jwk: Record<string, unknown>,
	fields: readonly string[],
	fail: Fail,
): Record<string, string> => {
	const members: Record<string, string> = {};
	for (const field of fields) {
		const value = jwk[field];
		if (typeof value !== 'string' || value === '') {
			fail(
				field === 'd'
					? 'dpopJwk has no "d": it is not a private key'
					: `dpopJwk's "${field}" is not a string`,
			);
		}
		members[field] = value as string;
	}
	return members;
};

/** the stored DPoP key: key members only (no `kid`, `use`, `key_ops`), with the `alg` it signs with. */
export const dpopKeyOf = (jwk: unknown, fail: Fail): DpopPrivateJwk => {
	if (!isObject(jwk)) return fail('dpopJwk is not a JWK object');
	if (jwk.kty === 'EC') {
		const alg = ALG_BY_CURVE.get(jwk.crv);
		if (alg === undefined) return fail('dpopJwk is on a curve other than P-256, P-384, P-521 or secp256k1');
		if (jwk.alg !== undefined && jwk.alg !== alg) fail(`dpopJwk's "alg" is not ${alg}, its curve's`);
		return { ...keyMembers(jwk, ['kty', 'crv', 'x', 'y', 'd'], fail), alg } as DpopPrivateJwk;
	}
	if (jwk.kty === 'RSA') {
		// the token is bound to the key, not to an algorithm, but an RSA key does not say which one
		// the server accepted from it
		if (!RSA_ALGS.has(jwk.alg)) return fail('dpopJwk is an RSA key without an "alg" (PS256 … RS512)');
		const members = keyMembers(jwk, ['kty', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'], fail);
		return { ...members, alg: jwk.alg } as DpopPrivateJwk;
	}
	return fail('dpopJwk\'s "kty" is neither "EC" nor "RSA"');
};

export const authMethodOf = (value: unknown, fail: Fail): ClientAuthMethod => {
	if (value === undefined) {
		return fail(
			'authMethod is missing (stored by a release of @atproto/oauth-client from before it recorded ' +
				"one): pass { authMethod: { method: 'private_key_jwt', kid } } with the kid of that client's first key",
		);
	}
	if (isObject(value) && value.method === 'none') return { method: 'none' };
	if (
		isObject(value) &&
		value.method === 'private_key_jwt' &&
		typeof value.kid === 'string' &&
		value.kid !== ''
	) {
		return { method: 'private_key_jwt', kid: value.kid };
	}
	return fail('authMethod is neither { method: "private_key_jwt", kid } nor { method: "none" }');
};
