import type { PublicJwk } from '../jwk.ts';

/** the public key parameters of a JWK, in a fixed order, dropping everything else. */
export const publicJwkOf = (jwk: Record<string, unknown>): PublicJwk => {
	if (jwk.kty === 'EC') {
		return Object.freeze({ kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y }) as PublicJwk;
	}
	return Object.freeze({ kty: 'RSA', n: jwk.n, e: jwk.e }) as PublicJwk;
};
