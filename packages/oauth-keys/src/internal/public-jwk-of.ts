import type { PublicJwk } from '../jwk.ts';
import { shownMember } from './shown-member.ts';

/**
 * the public key parameters of an EC or RSA JWK (`kty`, `crv`, `x`, `y` or `kty`, `n`, `e`), in a
 * fixed order, frozen, dropping everything else: `d` and the other private members, and `kid`,
 * `alg`, `use`. what may be published or put in a JWT header from a key given by hand.
 */
export const publicJwkOf = (jwk: Record<string, unknown>): PublicJwk => {
	if (typeof jwk !== 'object' || jwk === null) {
		throw new TypeError(`publicJwkOf expects an EC or RSA JWK, got ${jwk === null ? 'null' : typeof jwk}`);
	}
	if (jwk.kty === 'EC') {
		return Object.freeze({ kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y }) as PublicJwk;
	}
	if (jwk.kty === 'RSA') {
		return Object.freeze({ kty: 'RSA', n: jwk.n, e: jwk.e }) as PublicJwk;
	}
	// an OKP or oct key would otherwise come back labelled RSA, with no parameters at all
	throw new TypeError(`publicJwkOf expects an EC or RSA JWK, got kty ${shownMember(jwk.kty)}`);
};
