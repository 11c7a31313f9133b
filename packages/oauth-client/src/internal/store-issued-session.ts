import type { Did } from '@atcute/lexicons';

import { STORE_RETRY_DELAYS_MS } from '../constants.ts';
import type { SessionStore, StoredSession } from '../stored-types.ts';
import { isTransient } from './transient-failure.ts';

/** what a stored value's access token is, whatever shape a store hands back. */
export const accessTokenOf = (stored: unknown): unknown =>
	(stored as { tokenSet?: { access_token?: unknown } } | null | undefined)?.tokenSet?.access_token;

/**
 * what is stored for `did` (`value` undefined: none), or undefined when the read fails: "unknown",
 * not "none". a read that fails with a transient error is made again after each of `pauses`.
 */
const readStored = async (
	sessions: SessionStore,
	did: Did,
	pauses: readonly number[] = [],
): Promise<{ value: unknown } | undefined> => {
	const read = await readStoredOrWhy(sessions, did, pauses);
	return read !== undefined && 'value' in read ? read : undefined;
};

/**
 * what is stored for `did`, read before a sign-in replaces it, through a passing failure as the
 * write is (after each pause of `STORE_RETRY_DELAYS_MS`): the replaced grant is revoked from what
 * it reads, and without it that grant would stay live at its server, stored nowhere, and the
 * write's retries could not tell it from another's. undefined when the read still fails, or fails
 * for good (a sign-in is not failed for an old session).
 */
export const readBeforeReplacing = (
	sessions: SessionStore,
	did: Did,
): Promise<{ value: unknown } | undefined> => readStored(sessions, did, STORE_RETRY_DELAYS_MS);

/**
 * what is stored for `did`: `{ value }`; `{ unreadable }`, the error, when the read fails for good
 * (`transient: false`: an entry this process cannot decrypt, say); undefined when it still fails
 * for now, or with no word on whether it may pass. a read that fails with a transient error is
 * made again after each of `pauses` (by default `STORE_RETRY_DELAYS_MS`, as a sign-in reads what
 * it replaces).
 */
export const readStoredOrWhy = async (
	sessions: SessionStore,
	did: Did,
	pauses: readonly number[] = STORE_RETRY_DELAYS_MS,
): Promise<{ value: unknown } | { unreadable: unknown } | undefined> => {
	for (let attempt = 0; ; attempt++) {
		try {
			return { value: (await sessions.get(did)) ?? undefined };
		} catch (err) {
			if ((err as { transient?: unknown } | null)?.transient === false) return { unreadable: err };
			const pause = pauses[attempt];
			if (pause === undefined || !isTransient(err)) return undefined;
			await new Promise((resolve) => setTimeout(resolve, pause));
		}
	}
};

/**
 * stores a session whose tokens were just issued. a write that fails with a transient error
 * (`transient: true`: Redis reconnecting, SQLite busy, PostgreSQL restarting) is made again after
 * each pause of `STORE_RETRY_DELAYS_MS`: the tokens cannot be had again. call under the account's
 * lock, so no other write of this session comes in between.
 *
 * a lock can be lost while it is held, though: PostgreSQL's advisory lock goes with a restart of
 * the very server the store is on. so before each retry the stored session is read, and the write
 * made again only while it is still the one this write replaces (`replaces`): when another process
 * has ended or replaced it meanwhile, the first failure is thrown, as if no retry had been made. a
 * read that finds the session written (the failed write landed after all) ends the retries there;
 * a read that fails leaves the write to be tried. any other failure, or the last one, is thrown,
 * unless a read then finds the session written: a write that landed is a write made.
 * @param replaces whether a stored value (`undefined`: none) is the one this write replaces
 */
export const storeIssuedSession = async (
	sessions: SessionStore,
	did: Did,
	session: StoredSession,
	replaces: (stored: unknown) => boolean,
): Promise<void> => {
	let first: unknown;
	for (let attempt = 0; ; attempt++) {
		try {
			await sessions.set(did, session);
			return;
		} catch (err) {
			first ??= err;
			const pause = STORE_RETRY_DELAYS_MS[attempt];
			if (pause === undefined || !isTransient(err)) {
				// a write can land and still fail (the reply lost after the commit): the session is
				// stored then, and the caller would revoke the tokens it holds. read through passing
				// failures: a read that fails for a moment says nothing of whether the write landed
				const stored = await readStored(sessions, did, STORE_RETRY_DELAYS_MS);
				if (stored !== undefined && accessTokenOf(stored.value) === session.tokenSet.access_token) return;
				throw err;
			}
			await new Promise((resolve) => setTimeout(resolve, pause));
		}
		const stored = await readStored(sessions, did);
		if (stored !== undefined) {
			if (accessTokenOf(stored.value) === session.tokenSet.access_token) return;
			if (!replaces(stored.value)) throw first;
		}
	}
};

/**
 * the session stored for `did` now (`{ value }`) when it is another's than the one a refresh that
 * failed for good read (`replaces`) and the one it meant to store (`written`, which may have landed
 * after all; none when it failed before it had tokens); undefined otherwise. the lock can be lost
 * while a refresh runs (PostgreSQL's advisory lock goes with a restart): a session another process
 * stored meanwhile (a new sign-in, its own refresh) is not the failed refresh's to delete. read
 * through passing failures; a read that still fails is not another's: the caller ends the session
 * as before. none stored (`{ value: undefined }`) was ended by another holder: nothing to delete.
 * an entry the store cannot read for good (`{ unreadable }`: one under a key this process lacks)
 * may be another's, and is not the caller's to delete either.
 */
export const storedByAnother = async (
	sessions: SessionStore,
	did: Did,
	replaces: (stored: unknown) => boolean,
	written: StoredSession | undefined,
): Promise<{ value: unknown } | { unreadable: unknown } | undefined> => {
	const read = await readStoredOrWhy(sessions, did);
	if (read === undefined || 'unreadable' in read) return read;
	// none stored: another holder ended it meanwhile (under a lock held throughout, only this holder
	// writes), and reported it. `{ value: undefined }`: nothing left for the caller to delete
	if (read.value === undefined) return read;
	const theirs = accessTokenOf(read.value) !== written?.tokenSet.access_token && !replaces(read.value);
	return theirs ? read : undefined;
};
