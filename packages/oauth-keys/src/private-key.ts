import { InvalidKeyError } from './errors.ts';
import type { SigningKey } from './signing-key.ts';

/**
 * a client's private key: a signing key with the `kid` it is published under. what
 * `generatePrivateKey`, `importJwkKey` and `importPkcs8Key` return, and what a `Keyset` holds.
 */
export interface PrivateKey extends SigningKey {
	/** the key id, unique in its keyset; the server finds the key to verify with by it. */
	readonly kid: string;
}

/** checks that `kid` is a usable key id and returns it. */
export const checkKid = (kid: unknown): string => {
	if (typeof kid !== 'string' || kid === '') {
		// without a kid the server cannot tell which published key signed an assertion
		throw new InvalidKeyError(
			'missing_kid',
			kid === undefined
				? 'the key has no "kid"; give one in the JWK or in the options'
				: `the key's "kid" must be a non-empty string, got ${JSON.stringify(kid)}`,
		);
	}
	return kid;
};

/** attaches a (checked) `kid` to a signing key. */
export const toPrivateKey = (key: SigningKey, kid: string): PrivateKey => {
	return Object.freeze({ ...key, kid: checkKid(kid) });
};
