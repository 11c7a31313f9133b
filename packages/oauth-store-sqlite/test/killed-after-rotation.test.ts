import { fileURLToPath } from 'node:url';

import type { Did } from '@atcute/lexicons';
import {
	type OAuthSessionEvent,
	type StoredSession,
	type StoredState,
	TokenRefreshError,
} from '@atcute/oauth-client';
import { exportJwkKey } from '@atcute/oauth-keys';
import { startAppProcess } from '@atcute-oauth/store-conformance';
import { describe, expect, it } from 'vitest';

import { createTestClient, signIn, TEST_CLIENT_METADATA } from '../../oauth-client/src/test-utils/setup.ts';
import { createSqliteLock, SqliteStore } from '../src/index.ts';
import { openRawDatabase } from '../src/internal/test-raw-database.ts';
import { useAppTestEnv } from './support/use-app-test-env.ts';

// a loss no client can avoid: an app process killed after the authorization server rotated the
// refresh token, before the answer was stored. what the next process must get is the honest end
// of the session: a typed error, the session deleted, a `deleted` event, and the dead holder's
// lock freed; never a session that reads as live, nor the spent token sent twice for good.

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/oauth-child.mjs', import.meta.url));

/**
 * the holders' lease: longer than the holder's renewals can stay blocked behind the write lock
 * this test holds (each waits SQLite's 5 s busy timeout) while its token request is answered: a
 * hold it cannot confirm would stop it from sending the request again after a nonce challenge.
 */
const LEASE_MS = 8_000;

describe('an app process killed between the rotation of its refresh token and its write', () => {
	const env = useAppTestEnv();

	it('leaves the next process a TokenRefreshError (invalid_grant), the session deleted and reported, and no lock', {
		timeout: 90_000,
	}, async () => {
		const path = env.temp.file('killed-after-rotation.db');
		const sessions = new SqliteStore<Did, StoredSession>({ path, table: 'oauth_sessions' });
		const states = new SqliteStore<string, StoredState>({ path, table: 'oauth_states' });
		const lock = createSqliteLock({ path, lease: LEASE_MS });
		env.toClose.push(sessions, states, lock);
		const { client, key } = await createTestClient(env.server, {
			stores: { sessions, states },
			requestLock: lock,
		});
		const did = env.server.createAccount({ handle: 'killed.test' }).did as Did;
		await signIn(env.server, client, did);
		const before = (await sessions.get(did))!.tokenSet.refresh_token;
		env.server.reset();
		// the token request waits at the server, so this process can hold SQLite's write lock first:
		// the holder's write of the answer then waits for it, and the holder is killed there
		env.server.behaviour.tokenDelayMs = 1_500;

		const holder = startAppProcess(
			CHILD,
			{
				path,
				sessionsTable: 'oauth_sessions',
				statesTable: 'oauth_states',
				leaseMs: LEASE_MS,
				lock: 'sqlite',
				mode: 'refresh',
				did,
				plcUrl: env.server.plcUrl,
				pdsUrl: env.server.pdsUrl,
				clientJwk: await exportJwkKey(key),
				metadata: TEST_CLIENT_METADATA,
			},
			{ cwd: PACKAGE_DIR },
		);
		const raw = openRawDatabase(path);
		try {
			await holder.next('ready');
			holder.go();
			// the holder's token request reached the server, which holds it a while: its second, a
			// new process's first being refused for its DPoP nonce (taken after the first, the write
			// lock would leave the holder's lease unconfirmed, and the retry rightly unsent)
			const tokenRequests = () => env.server.stats.requests.filter(({ path }) => path === '/oauth/token');
			await expect.poll(() => tokenRequests().length, { timeout: 10_000, interval: 5 }).toBe(2);
			expect(tokenRequests()[0]!.error).toBe('use_dpop_nonce');
			raw.exec('BEGIN IMMEDIATE');
			// the server rotated the refresh token and answered: the old one is spent
			await expect
				.poll(() => env.server.stats.token.refresh_token, { timeout: 20_000, interval: 20 })
				.toBe(1);
			await holder.kill();
		} finally {
			await holder.kill();
			if (raw.inTransaction) raw.exec('ROLLBACK');
			raw.close();
		}
		env.server.behaviour.tokenDelayMs = undefined;
		// the answer was never stored
		expect((await sessions.get(did))!.tokenSet.refresh_token).toBe(before);

		const events: OAuthSessionEvent[] = [];
		client.addEventListener((event) => events.push(event));
		const error = await client.restore(did, { refresh: true }).then(
			() => undefined,
			(err: unknown) => err,
		);
		expect(error).toBeInstanceOf(TokenRefreshError);
		expect(error).toMatchObject({ reason: 'invalid_grant', did });
		expect(await sessions.get(did)).toBeUndefined();
		await expect
			.poll(() => events)
			.toEqual([expect.objectContaining({ type: 'deleted', sub: did, cause: 'invalid_grant' })]);
		// the grant ended at the server, and nothing was left live
		expect(env.server.sessions(did).every((session) => !session.active)).toBe(true);
		const leases = openRawDatabase(path, { readonly: true });
		try {
			expect(leases.prepare('SELECT name FROM oauth_locks').all()).toEqual([]);
		} finally {
			leases.close();
		}
		// a sign-in again works
		await signIn(env.server, client, did);
		expect((await client.restore(did)).did).toBe(did);
	});
});
