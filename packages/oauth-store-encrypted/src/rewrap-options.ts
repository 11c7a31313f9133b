import type { LockFunction } from '@atcute/oauth-client';

import type { StoreDecryptionError } from './errors.ts';

/** options for `EncryptedStore.rewrap`. */
export interface RewrapOptions<K extends string> {
	/**
	 * the lock the `OAuthClient` refreshes under (its `requestLock`), held while each entry is
	 * re-read and rewritten so a concurrent refresh is never overwritten with spent tokens.
	 * required unless `dryRun`.
	 */
	lock?: LockFunction | undefined;
	/** the lock name for an entry; default `oauth-session:<key>`, the name the client uses. */
	lockName?: ((key: K) => string) | undefined;
	/** only count, write nothing (no lock needed). default `false`. */
	dryRun?: boolean | undefined;
}

/** what `EncryptedStore.rewrap` found, counted before anything was rewritten. */
export interface RewrapReport<K extends string> {
	/** keys looked at. */
	checked: number;
	/** keys with no entry. */
	missing: number;
	/** entries found under each key id, the primary included. */
	byKeyId: Record<string, number>;
	/** entries found not encrypted (readable only with `allowPlaintext`). */
	plaintext: number;
	/** entries rewritten under the primary key (0 in a dry run). */
	rewrapped: number;
	/** entries that could not be decrypted; they were left as they are. */
	failed: Array<{ key: K; error: StoreDecryptionError }>;
}
