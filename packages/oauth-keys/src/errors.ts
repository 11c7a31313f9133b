/** why a key was refused; stable values callers may branch on. */
export type InvalidKeyReason =
	| 'malformed_json'
	| 'not_an_object'
	| 'unsupported_key_type'
	| 'public_key'
	| 'missing_kid'
	| 'missing_alg'
	| 'unsupported_alg'
	| 'alg_mismatch'
	| 'weak_key'
	| 'invalid_key'
	| 'key_mismatch'
	| 'wrong_pem_type';

/**
 * thrown when a key given to the library cannot be used. the message names the problem and never
 * contains key material.
 */
export class InvalidKeyError extends TypeError {
	override name = 'InvalidKeyError';
	/** stable code shared by every key input error. */
	readonly code = 'ERR_INVALID_KEY';

	constructor(
		/** what was wrong with the key. */
		readonly reason: InvalidKeyReason,
		message: string,
	) {
		super(message);
	}
}

/**
 * thrown when none of our algorithms or keys is accepted by the server. carries both lists so the
 * mismatch can be read from the error alone.
 */
export class NoCompatibleKeyError extends Error {
	override name = 'NoCompatibleKeyError';

	constructor(
		message: string,
		/** the algorithms we could sign with. */
		readonly available: readonly string[],
		/** the algorithms the server advertised. */
		readonly supported: readonly string[],
	) {
		super(message);
	}
}
