import type { RewrapReport } from './rewrap-options.ts';

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

/**
 * `rewrap` stopped before the end: an error that is not a decryption error (the store was
 * unavailable, the lock timed out, `onProgress` threw) ended it. what it did until then is in
 * `report`; entries rewritten stay rewritten, and running it again over the same keys carries on
 * (it skips what is done). the message names the entry's key and the cause's message, never a
 * value or a secret.
 */
export class RewrapAbortedError<K extends string = string> extends Error {
	override name = 'RewrapAbortedError';
	/** the original error. */
	declare readonly cause: unknown;
	/**
	 * whether running it again may succeed: the cause's own `transient` when it has a boolean one
	 * (a lock timeout, a `StoreDecryptionError`); `false` for a `TypeError` (a key no entry can
	 * have, a bad option: the same call fails the same way); otherwise `true` (a store error).
	 */
	readonly transient: boolean;

	/** @param cause the error that ended the rewrap; its message is quoted in this one's */
	constructor(
		/**
		 * the key of the entry it stopped at, counted in `report.checked`; `undefined` when the
		 * keys themselves (the iterable) failed.
		 */
		readonly key: K | undefined,
		/** the report so far, as `rewrap` would have returned it had the keys ended there. */
		readonly report: RewrapReport<K>,
		cause: unknown,
	) {
		const at =
			key === undefined
				? `while reading the keys to visit (after ${report.checked} keys`
				: `at the entry ${JSON.stringify(key)} (key ${report.checked}`;
		super(`rewrap stopped ${at}, ${report.rewrapped} rewritten so far): ${messageOf(cause)}`, { cause });
		const transient = (cause as { transient?: unknown } | null | undefined)?.transient;
		this.transient = typeof transient === 'boolean' ? transient : !(cause instanceof TypeError);
	}
}

/** an error's message; for a thrown non-error, its type only (it may be anything, even a value). */
const messageOf = (error: unknown): string => {
	const message = (error as { message?: unknown } | null | undefined)?.message;
	return typeof message === 'string' ? message : `a ${error === null ? 'null' : typeof error} was thrown`;
};
