/** why an entry could not be decrypted. */
export type StoreDecryptionErrorCode =
	/** the entry names a key id that is not in the key ring (retired too early, or not yet deployed). */
	| 'unknown_key'
	/**
	 * AES-GCM refused the entry: it was changed, copied from another entry's key (another DID), or
	 * written with another secret under the same key id.
	 */
	| 'authentication_failed'
	/** the entry is not encrypted and `allowPlaintext` is off. */
	| 'plaintext'
	/** the entry looks encrypted but its fields are not valid (bad base64url, IV length, ...). */
	| 'malformed'
	/** the entry was written by a newer format version than this package reads. */
	| 'unsupported_version';

/**
 * an entry of an encrypted store could not be decrypted; see `code`. the entry is left in place
 * (never deleted) so that it can be recovered once the cause is fixed. the message names the
 * entry's key and the key id, never a secret or the entry's content.
 */
export class StoreDecryptionError extends Error {
	override name = 'StoreDecryptionError';
	/** always false: reading again will not help until the key ring or the entry changes. */
	readonly transient = false;

	constructor(
		/** what went wrong. */
		readonly code: StoreDecryptionErrorCode,
		/** the entry's key in the store (a DID, or an OAuth state id). */
		readonly entryKey: string,
		/** the key id the entry names, when it names one. */
		readonly keyId: string | undefined,
		message: string,
		options?: ErrorOptions,
	) {
		super(message, options);
	}
}
