import type { Did } from '@atcute/lexicons';

import { STORE_RETRY_DELAYS_MS } from '../constants.ts';
import type { SessionStore, StoredSession } from '../stored-types.ts';
import { isTransient } from './transient-failure.ts';

/**
 * stores a session whose tokens were just issued. a write that fails with a transient error
 * (`transient: true`: Redis reconnecting, SQLite busy, PostgreSQL restarting) is made again after
 * each pause of `STORE_RETRY_DELAYS_MS`: writing the same value twice is harmless, and the tokens
 * cannot be had again. any other failure, or the last one, is thrown. call under the account's
 * lock, so no other write of this session comes in between.
 */
export const storeIssuedSession = async (
	sessions: SessionStore,
	did: Did,
	session: StoredSession,
): Promise<void> => {
	for (let attempt = 0; ; attempt++) {
		try {
			await sessions.set(did, session);
			return;
		} catch (err) {
			const pause = STORE_RETRY_DELAYS_MS[attempt];
			if (pause === undefined || !isTransient(err)) throw err;
			await new Promise((resolve) => setTimeout(resolve, pause));
		}
	}
};
