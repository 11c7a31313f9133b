import type { LockFunction } from '@atcute/oauth-client';

import type { StoreDecryptionError } from './errors.ts';

/** options for `EncryptedStore.rewrap`. */
export interface RewrapOptions<K extends string> {
	/**
	 * the lock the `OAuthClient` refreshes under: the very `LockFunction` given to it as
	 * `requestLock` (or one on the same backend, for another process), held while each entry is
	 * re-read and rewritten so a concurrent refresh is never overwritten with spent tokens. a lock
	 * the client does not use (a fresh `createMemoryLock()`) locks nothing. required unless
	 * `dryRun`.
	 */
	lock?: LockFunction | undefined;
	/** the lock name for an entry; default `oauth-session-<key>`, the name the client uses. */
	lockName?: ((key: K) => string) | undefined;
	/**
	 * only check and count, write nothing (no lock needed): every entry is decrypted, the ones
	 * under the primary key and the ones with an expiry too, and each that fails is listed in
	 * `failed`. default `false`.
	 */
	dryRun?: boolean | undefined;
	/**
	 * called after each key is visited (found missing, counted, rewritten or listed in `failed`)
	 * with the report so far: the same object each time, updated as the rewrap goes on (copy what
	 * you keep). an exception it throws ends the rewrap like any other error, as a
	 * `RewrapAbortedError`; a promise it returns (an async reporter) is waited for, and its
	 * rejection does the same.
	 */
	onProgress?: ((report: Readonly<RewrapReport<K>>) => void) | undefined;
}

/** what `EncryptedStore.rewrap` found, counted before anything was rewritten. */
export interface RewrapReport<K extends string> {
	/** keys looked at. */
	checked: number;
	/** keys with no entry. */
	missing: number;
	/**
	 * entries found under each key id, the primary included. an object without a prototype, so
	 * that a stored key id such as `constructor` is counted like any other.
	 */
	byKeyId: Record<string, number>;
	/** entries found not encrypted (readable only with `allowPlaintext`). */
	plaintext: number;
	/**
	 * entries with an expiry (authorization states), counted (in `byKeyId` or `plaintext`) but
	 * never rewritten: the callback takes a state without a lock, so rewriting one could bring
	 * back a state it has just used. they expire within 10 minutes, so keep the old key (or
	 * `allowPlaintext`) that long.
	 */
	expiring: number;
	/** entries rewritten under the primary key (0 in a dry run). */
	rewrapped: number;
	/**
	 * entries that could not be decrypted (or, in plaintext, read: `allowPlaintext` is off); they
	 * were left as they are. a dry run decrypts every entry, so it lists every entry that cannot
	 * be read. a run that writes decrypts only the entries it rewrites: the ones under the
	 * primary key and the ones with an expiry are not decrypted, so a damaged one is not listed
	 * here (run a dry run to check them).
	 */
	failed: Array<{ key: K; error: StoreDecryptionError }>;
}
