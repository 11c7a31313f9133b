import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { TokenRefreshError } from './errors.ts';
import type { OAuthSessionEvent } from './session-events.ts';
import type { StoredSession } from './stored-types.ts';
import type { MapStore } from './test-utils/map-store.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/** what a store throws for a passing condition (Redis reconnecting, SQLite busy). */
class PassingStoreError extends Error {
	readonly transient = true;
}

/**
 * has every write of `sessions` go through `onWrite`, with its attempt number (from 1) and the
 * store's own write; returns the number of writes tried.
 */
const wrapWrites = (
	sessions: MapStore<StoredSession>,
	onWrite: (attempt: number, write: () => Promise<void>) => Promise<void>,
) => {
	const set = sessions.set.bind(sessions);
	const tried = { count: 0 };
	sessions.set = async (key: string, value: StoredSession) => onWrite(++tried.count, () => set(key, value));
	return tried;
};

/** makes the next `failures` writes of `sessions` fail with `error()`, then lets them through. */
const failWrites = (sessions: MapStore<StoredSession>, failures: number, error: () => Error) =>
	wrapWrites(sessions, async (attempt, write) => {
		if (attempt <= failures) throw error();
		return write();
	});

describe('storing issued tokens after a transient store failure', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => {
		({ server, alice } = env);
	});

	it('keeps a refreshed session when the store fails for a moment', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const before = sessions.map.get(alice.did)!.tokenSet;
		const events: OAuthSessionEvent[] = [];
		client.addEventListener((event) => events.push(event));
		const tried = failWrites(sessions, 2, () => new PassingStoreError('busy'));

		const session = await client.restore(alice.did, { refresh: true });
		// two failures, then the write that stood: the spent refresh token's successor is kept
		expect(tried.count).toBe(3);
		const after = sessions.map.get(alice.did)!.tokenSet;
		expect(after.refresh_token).not.toBe(before.refresh_token);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });
		expect((await session.getTokenInfo()).expiresAt).toBeDefined();
		await expect.poll(() => events.map(({ type }) => type)).toEqual(['updated']);
	});

	it('ends the session when the store keeps failing, after three writes', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const tried = failWrites(sessions, Number.POSITIVE_INFINITY, () => new PassingStoreError('busy'));

		const error = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(TokenRefreshError);
		expect(error).toMatchObject({ reason: 'store_failed', cause: { message: 'busy' } });
		expect(tried.count).toBe(3);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: false });
		// nothing else was stored meanwhile: the session this refresh read is deleted
		expect(sessions.map.has(alice.did)).toBe(false);
	});

	it('adopts a session another process stored while the writes failed (a lock lost with its server)', async () => {
		const { client, sessions, key } = await createTestClient(server);
		// the server keeps earlier tests' grants: this test's come after them
		const earlier = server.sessions(alice.did).length;
		await signIn(server, client, alice.did);
		// the other process (the same app, its own store connection), with the lock this one lost
		const other = await createTestClient(server, { key });
		await signIn(server, other.client, alice.did);
		const theirs = other.sessions.map.get(alice.did)!;
		const events: OAuthSessionEvent[] = [];
		client.addEventListener((event) => events.push(event));
		const tried = wrapWrites(sessions, async () => {
			sessions.map.set(alice.did, theirs);
			throw new PassingStoreError('restarting');
		});

		// the refresh's own tokens could not be kept: the session handed back is the other's, live
		const session = await client.restore(alice.did, { refresh: true });
		expect(tried.count).toBe(1);
		expect((await session.getTokenInfo()).expiresAt?.getTime()).toBe(theirs.tokenSet.expires_at);
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
		// the other sign-in stays, stored and live at the server
		expect(sessions.map.get(alice.did)).toEqual(theirs);
		const [refreshed, signedIn] = server.sessions(alice.did).slice(earlier);
		expect(signedIn).toMatchObject({ refreshToken: theirs.tokenSet.refresh_token, active: true });
		// the tokens this refresh got, kept nowhere, are revoked all the same
		expect(refreshed).toMatchObject({ refreshes: 1, active: false });
		// and no session of this process's is reported deleted
		await new Promise((resolve) => setTimeout(resolve, 10));
		expect(events).toEqual([]);
	});

	it('keeps the refreshed session when the last failed write landed after all', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const tried = wrapWrites(sessions, async (attempt, write) => {
			// the third write lands, but its answer is lost: the read after it finds it
			if (attempt === 3) await write();
			throw new PassingStoreError('timed out');
		});

		await client.restore(alice.did, { refresh: true });
		expect(tried.count).toBe(3);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ refreshes: 1, active: true });
		expect(sessions.map.get(alice.did)?.tokenSet.refresh_token).toBe(
			server.sessions(alice.did).at(-1)?.refreshToken,
		);
	});

	it('keeps a refresh, and a sign-in, whose write landed and then failed for good (a reply lost after the commit)', async () => {
		const { client, sessions } = await createTestClient(server);
		const landedThenFailed = () =>
			wrapWrites(sessions, async (_attempt, write) => {
				await write();
				throw new Error('reply lost after commit');
			});
		// an earlier grant, which the sign-in below replaces
		await signIn(server, client, alice.did);

		let tried = landedThenFailed();
		await client.restore(alice.did, { refresh: true });
		expect(tried.count).toBe(1);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ refreshes: 1, active: true });
		expect(sessions.map.get(alice.did)?.tokenSet.refresh_token).toBe(
			server.sessions(alice.did).at(-1)?.refreshToken,
		);

		const earlier = server.sessions(alice.did).length;
		tried = landedThenFailed();
		await signIn(server, client, alice.did);
		expect(tried.count).toBe(1);
		// the new grant is the stored one and stays live; the one it replaced is revoked
		const [replaced, current] = server.sessions(alice.did).slice(earlier - 1);
		expect(current).toMatchObject({ active: true });
		expect(sessions.map.get(alice.did)?.tokenSet.access_token).toBe(current?.accessToken);
		expect(replaced).toMatchObject({ active: false });
	});

	it('keeps a refresh, and a sign-in, whose write landed and failed for good, when the read that checks it fails for a moment', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const get = sessions.get.bind(sessions);
		let readsToFail = 0;
		sessions.get = async (key: string) => {
			if (readsToFail > 0) {
				readsToFail--;
				throw new PassingStoreError('reconnecting');
			}
			return get(key);
		};
		// the reply lost after the commit (a dropped connection), and the next read meets the store
		// reconnecting
		const landedThenFailed = () =>
			wrapWrites(sessions, async (_attempt, write) => {
				await write();
				readsToFail = 1;
				throw new Error('connection reset after commit');
			});

		landedThenFailed();
		await client.restore(alice.did, { refresh: true });
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ refreshes: 1, active: true });
		expect(sessions.map.get(alice.did)?.tokenSet.refresh_token).toBe(
			server.sessions(alice.did).at(-1)?.refreshToken,
		);

		landedThenFailed();
		await signIn(server, client, alice.did);
		// the stored grant is live, not revoked under the session kept for it
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });
		expect(sessions.map.get(alice.did)?.tokenSet.access_token).toBe(
			server.sessions(alice.did).at(-1)?.accessToken,
		);
	});

	it('deletes the session when the store can no longer be read either', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const get = sessions.get.bind(sessions);
		let down = false;
		sessions.get = async (key: string) => {
			if (down) throw new PassingStoreError('down');
			return get(key);
		};
		const tried = wrapWrites(sessions, async () => {
			down = true;
			throw new PassingStoreError('down');
		});

		const error = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		expect(error).toMatchObject({ reason: 'store_failed' });
		expect(tried.count).toBe(3);
		// whose session is stored cannot be told: it is deleted, as before
		expect(sessions.calls.at(-1)).toBe(`delete ${alice.did}`);
	});

	it('does not write again after a failure that is not transient', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const tried = failWrites(sessions, Number.POSITIVE_INFINITY, () => new Error('disk full'));

		const error = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		expect(error).toMatchObject({ reason: 'store_failed', cause: { message: 'disk full' } });
		expect(tried.count).toBe(1);
	});

	it('writes no more once another process ended the session meanwhile (a lock lost with its server)', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const tried = wrapWrites(sessions, async (attempt, write) => {
			if (attempt === 1) {
				// while this write fails, another process, which took the lock this one lost, ends it
				sessions.map.delete(alice.did);
				throw new PassingStoreError('restarting');
			}
			return write();
		});

		const error = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		expect(error).toMatchObject({ reason: 'store_failed', cause: { message: 'restarting' } });
		// the ended session is not written back
		expect(tried.count).toBe(1);
		expect(sessions.map.has(alice.did)).toBe(false);
	});

	it('takes a failed write that landed after all as done', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const tried = wrapWrites(sessions, async (attempt, write) => {
			await write();
			// the answer lost on the way back: the store cannot tell whether it wrote
			if (attempt === 1) throw new PassingStoreError('timed out');
		});

		await client.restore(alice.did, { refresh: true });
		expect(tried.count).toBe(1);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });
		expect(sessions.map.get(alice.did)?.tokenSet.refresh_token).toBe(
			server.sessions(alice.did).at(-1)?.refreshToken,
		);
	});

	it('keeps a sign-in when the store fails for a moment', async () => {
		const { client, sessions } = await createTestClient(server);
		const tried = failWrites(sessions, 1, () => new PassingStoreError('reconnecting'));

		await signIn(server, client, alice.did);
		expect(tried.count).toBe(2);
		expect(sessions.map.has(alice.did)).toBe(true);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });
	});

	/** makes the next `failures` reads of `sessions` fail with a passing error, then lets them through. */
	const failReads = (sessions: MapStore<StoredSession>, failures: number) => {
		const get = sessions.get.bind(sessions);
		const tried = { count: 0 };
		sessions.get = async (key: string) => {
			if (++tried.count <= failures) throw new PassingStoreError('reconnecting');
			return get(key);
		};
		return tried;
	};

	// the sign-in reads the session it replaces to revoke its grant once the new one is stored:
	// read through a passing failure, or that grant stays live at its server, stored nowhere
	it('revokes the grant a sign-in replaced when the store fails to read it for a moment', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const replaced = server.sessions(alice.did).at(-1)!;
		failReads(sessions, 2);

		await signIn(server, client, alice.did);
		expect(
			server.sessions(alice.did).find((grant) => grant.refreshToken === replaced.refreshToken),
		).toMatchObject({
			active: false,
		});
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });
	});

	it('keeps a sign-in whose read of the replaced session and first write both fail for a moment', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		failReads(sessions, 1);
		const tried = failWrites(sessions, 1, () => new PassingStoreError('reconnecting'));

		await signIn(server, client, alice.did);
		expect(tried.count).toBe(2);
		expect(sessions.map.get(alice.did)?.tokenSet.refresh_token).toBe(
			server.sessions(alice.did).at(-1)?.refreshToken,
		);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });
	});

	it('keeps a sign-in over a stored session it cannot read, whose first write fails for a moment', async () => {
		const { client, sessions } = await createTestClient(server);
		// a value in an older or broken shape: the write's retry compares what it reads with it as is
		sessions.map.set(alice.did, { tokenSet: { access_token: 'at-unreadable' } } as never);
		const tried = failWrites(sessions, 1, () => new PassingStoreError('reconnecting'));

		await signIn(server, client, alice.did);
		expect(tried.count).toBe(2);
		expect(sessions.map.get(alice.did)?.tokenSet.refresh_token).toBe(
			server.sessions(alice.did).at(-1)?.refreshToken,
		);
	});

	it('reads the session a sign-in replaces once when the store refuses it for good', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const get = sessions.get.bind(sessions);
		const reads = { count: 0 };
		sessions.get = async (key: string) => {
			reads.count++;
			if (reads.count === 1) throw new Error('cannot decrypt');
			return get(key);
		};

		await signIn(server, client, alice.did);
		// no pause under the account's lock for a failure that will not pass
		expect(reads.count).toBe(1);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });
	});
});
