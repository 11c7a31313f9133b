import { typeOf } from './internal/type-of.ts';
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
	/**
	 * the entry looks encrypted but its fields are not valid (bad base64url, IV length, ...), or
	 * (with `allowPlaintext`) a plaintext entry is no JSON value: a bigint, a cycle, nested too deep.
	 */
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
	 * the key of the entry it stopped at, counted in `report.checked`; `undefined` when the keys
	 * themselves (the iterable) failed, or when what they yielded there was not a string.
	 */
	readonly key: K | undefined;
	/**
	 * whether running it again may succeed: the cause's own `transient` when it has a boolean one
	 * (a lock timeout, a `StoreDecryptionError`); `false` for a `TypeError` (a key no entry can
	 * have, a bad option, a lock that never ran its function: the same call fails the same way);
	 * otherwise `true` (a store error).
	 */
	readonly transient: boolean;

	/**
	 * @param key the key it stopped at; a non-string (what the keys yielded in its place) is named
	 *   by its type only, and not kept
	 * @param report the report so far, as `rewrap` would have returned it had the keys ended there
	 * @param cause the error that ended the rewrap; its message is quoted in this one's
	 */
	constructor(
		key: K | undefined,
		/** what `rewrap` did until it stopped, as it would have returned it had the keys ended there. */
		readonly report: RewrapReport<K>,
		cause: unknown,
	) {
		// only a string is quoted or kept: in its place the keys may have yielded a SQL row (a query
		// without .pluck()), which holds the session, its tokens and its DPoP private key; and
		// JSON.stringify throws on a bigint and gives undefined for a symbol
		const at =
			key === undefined
				? `while reading the keys to visit (after ${report.checked} keys`
				: typeof key === 'string'
					? `at the entry ${JSON.stringify(key)} (key ${report.checked}`
					: `at ${typeOf(key)} where an entry key belongs (key ${report.checked}`;
		super(`rewrap stopped ${at}, ${report.rewrapped} rewritten so far): ${messageOf(cause)}`, { cause });
		this.key = typeof key === 'string' ? key : undefined;
		const transient = (cause as { transient?: unknown } | null | undefined)?.transient;
		this.transient = typeof transient === 'boolean' ? transient : !(cause instanceof TypeError);
	}
}

/** an error's message; for a thrown non-error, its type only (it may be anything, even a value). */
const messageOf = (error: unknown): string => {
	const message = (error as { message?: unknown } | null | undefined)?.message;
	return typeof message === 'string' ? message : `${typeOf(error)} was thrown`;
};
