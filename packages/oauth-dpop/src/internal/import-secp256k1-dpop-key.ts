import { InvalidKeyError, type SignerOptions } from '@atcute/oauth-keys';

import type { DpopKey } from '../dpop-key.ts';

/** a secp256k1 private JWK, as `@atproto/oauth-client-node` stores its ES256K DPoP keys. */
export interface Secp256k1PrivateJwk {
	kty: 'EC';
	crv: 'secp256k1';
	x: string;
	y: string;
	d: string;
	alg: 'ES256K';
}

// the canonical base64url of 32 bytes: 43 characters, the last carrying 2 bits that must be zero.
// x and y are signed into every proof's header as given, so only the canonical form is taken
const FIELD_ELEMENT = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/**
 * loads an ES256K DPoP key (a session moved from `@atproto/oauth-client-node`) through
 * `createSigner.fromSecp256k1Jwk`: WebCrypto has no secp256k1, so a runtime without its own
 * signer for the curve cannot restore such a session at all, and says so.
 * @throws {InvalidKeyError} for a malformed key (naming the member, never its value), a key whose
 *   public half is not its own, or a runtime that cannot sign with secp256k1 (`unsupported_alg`)
 */
export const importSecp256k1DpopKey = (jwk: Secp256k1PrivateJwk, options?: SignerOptions): DpopKey => {
	if (jwk.kty !== 'EC' || jwk.crv !== 'secp256k1') {
		throw new InvalidKeyError('alg_mismatch', 'ES256K needs an EC key on curve secp256k1');
	}
	for (const field of ['x', 'y', 'd'] as const) {
		const value: unknown = jwk[field];
		if (typeof value !== 'string' || !FIELD_ELEMENT.test(value)) {
			throw new InvalidKeyError(
				'invalid_key',
				`the secp256k1 JWK's "${field}" is not the canonical base64url of 32 bytes`,
			);
		}
	}

	const { x, y, d } = jwk;
	const sign = options?.createSigner?.fromSecp256k1Jwk?.({ kty: 'EC', crv: 'secp256k1', x, y, d });
	if (sign === undefined) {
		throw new InvalidKeyError(
			'unsupported_alg',
			'an ES256K DPoP key (a session stored by @atproto/oauth-client-node) can only be restored where ' +
				"the runtime's own crypto signs with secp256k1: @atcute/oauth-node-client on Node or Deno",
		);
	}
	// a DpopKey, not a JwkSigner: ES256K is no SigningAlgorithm, which names what WebCrypto signs with
	const publicJwk = Object.freeze({ kty: 'EC', crv: 'secp256k1', x, y });
	return Object.freeze({ alg: 'ES256K', publicJwk, sign });
};
