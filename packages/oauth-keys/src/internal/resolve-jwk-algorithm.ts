import { InvalidKeyError } from '../errors.ts';
import { isSigningAlgorithm, type SigningAlgorithm } from '../signing-algorithm.ts';
import { checkEcJwkEncoding } from './ec-jwk-encoding.ts';
import { rsaExponentIsValid, rsaModulusBits } from './rsa-modulus-bits.ts';
import { shownMember } from './shown-member.ts';
import { ALG_BY_EC_CURVE, EC_CURVE_BY_ALG, keyTypeOf } from './webcrypto-algorithms.ts';

/** the smallest RSA modulus we accept (NIST SP 800-131A). */
const MIN_RSA_MODULUS_BITS = 2048;

/** throws `unsupported_alg` unless `alg` is one of the signing algorithms we support. */
export function checkSigningAlgorithm(alg: unknown): asserts alg is SigningAlgorithm {
	if (!isSigningAlgorithm(alg)) {
		throw new InvalidKeyError('unsupported_alg', `unsupported signing algorithm ${shownMember(alg)}`);
	}
}

/**
 * decides which algorithm a private JWK signs with (the option, else its `alg`, else its curve)
 * and checks that the key fits it.
 */
export const resolveJwkAlgorithm = (jwk: Record<string, unknown>, requested?: string): SigningAlgorithm => {
	if (requested !== undefined && jwk.alg !== undefined && jwk.alg !== requested) {
		throw new InvalidKeyError(
			'alg_mismatch',
			`the JWK says "alg": ${shownMember(jwk.alg)} but ${shownMember(requested)} was requested`,
		);
	}

	const alg = requested ?? jwk.alg ?? (jwk.kty === 'EC' ? ALG_BY_EC_CURVE.get(jwk.crv) : undefined);
	if (alg === undefined) {
		throw new InvalidKeyError(
			'missing_alg',
			jwk.kty === 'RSA'
				? 'an RSA JWK needs an "alg" (PS256, PS384, PS512, RS256, RS384 or RS512)'
				: `unsupported EC curve ${shownMember(jwk.crv ?? null)}; expected P-256, P-384 or P-521`,
		);
	}
	checkSigningAlgorithm(alg);
	if (keyTypeOf(alg) !== jwk.kty) {
		throw new InvalidKeyError('alg_mismatch', `${alg} needs a ${keyTypeOf(alg)} key, not ${jwk.kty}`);
	}
	if (jwk.kty === 'EC' && EC_CURVE_BY_ALG[alg] !== jwk.crv) {
		throw new InvalidKeyError(
			'alg_mismatch',
			`${alg} needs curve ${EC_CURVE_BY_ALG[alg]}, but the JWK is on ${shownMember(jwk.crv ?? null)}`,
		);
	}
	if (jwk.kty === 'EC') {
		// as n and e below: x and y are published as given, so only their canonical encoding is taken
		checkEcJwkEncoding(jwk);
	}
	if (jwk.kty === 'RSA') {
		// counted from the decoded modulus, not the length of its text, which zero bytes in front
		// would inflate (a weak key passing as a strong one); such an encoding is refused here too
		const bits = rsaModulusBits(jwk);
		if (bits < MIN_RSA_MODULUS_BITS) {
			throw new InvalidKeyError(
				'weak_key',
				`the RSA modulus is ${bits} bits; at least ${MIN_RSA_MODULUS_BITS} are required`,
			);
		}
		// with e = 1 a signature is the padded message itself, so anyone could forge assertions that
		// verify against the published key; an even e (or e < 3) is no RSA key either (RFC 8017 §3.1)
		if (!rsaExponentIsValid(jwk)) {
			throw new InvalidKeyError('weak_key', 'the RSA public exponent "e" must be odd and at least 3');
		}
	}
	return alg;
};
