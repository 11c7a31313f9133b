import type { Did } from '@atcute/lexicons';
import type { StoredSession, StoredState } from '@atcute/oauth-client';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
	createTestClient,
	signIn,
	startTestOAuthServer,
	type TestClock,
	type TestOAuthServer,
	testClock,
} from '../../oauth-client/src/test-utils/setup.ts';
import {
	createPostgresLock,
	type LeaseLostEvent,
	LockUnavailableError,
	PostgresStore,
	StoreUnavailableError,
} from '../src/index.ts';
import {
	type SpawnedPostgres,
	spawnPostgres,
	testPool,
	uniqueName,
} from '../src/test-utils/postgres-server.ts';

/** the backends holding an advisory lock. */
const advisoryHolders = async (admin: pg.Pool): Promise<number[]> => {
	const result = await admin.query(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted`);
	return result.rows.map((row) => row.pid as number);
};

// a server of this file's own: it stops and restarts it, which the other files must not see
describe('an OAuth client on PostgreSQL when the database fails', () => {
	let postgres: SpawnedPostgres;
	let pool: pg.Pool;
	let lockPool: pg.Pool;
	let admin: pg.Pool;
	let server: TestOAuthServer;
	// one clock for the server and the client, so the access token can be made stale for both
	let clock: TestClock;

	beforeAll(async () => {
		clock = testClock();
		postgres = await spawnPostgres('faults');
		pool = testPool(postgres.url);
		lockPool = testPool(postgres.url);
		admin = testPool(postgres.url);
		server = await startTestOAuthServer({ now: clock.now });
	}, 120_000);
	afterAll(async () => {
		await Promise.all([pool?.end(), lockPool?.end(), admin?.end()]);
		await server?.close();
		await postgres?.close();
	});

	/** a client on its own tables, with an account signed in. */
	const setup = async (onLeaseLost?: (event: LeaseLostEvent) => void) => {
		const sessions = new PostgresStore<Did, StoredSession>({
			pool,
			table: uniqueName('sessions'),
			timeout: 1_000,
		});
		const states = new PostgresStore<string, StoredState>({
			pool,
			table: uniqueName('states'),
			timeout: 1_000,
		});
		const prefix = uniqueName('lock');
		const { client, key } = await createTestClient(server, {
			clock,
			stores: { sessions, states },
			requestLock: createPostgresLock({ pool: lockPool, prefix, timeout: 1_000, onLeaseLost }),
		});
		const did = server.createAccount({ handle: `${uniqueName('fault')}.test` }).did as Did;
		await signIn(server, client, did);
		/** another process of the same app: its own client and lock connection, the same tables. */
		const another = async (lockConnections: pg.Pool) =>
			(
				await createTestClient(server, {
					clock,
					key,
					stores: { sessions, states },
					requestLock: createPostgresLock({
						pool: lockConnections,
						prefix,
						timeout: 5_000,
						onLeaseLost: () => {},
					}),
				})
			).client;
		return { client, sessions, states, did, another };
	};

	it('fails with typed transient errors while PostgreSQL is down, deletes no session, and refreshes once after it restarts', {
		timeout: 90_000,
	}, async () => {
		const { client, sessions, states, did } = await setup();
		const held = await client.restore(did);
		const before = await sessions.get(did);
		server.reset();

		await postgres.stop();
		// every store operation fails typed: a failed read never looks like "no session"
		for (const [operation, run] of [
			['get', () => sessions.get(did)],
			['set', () => sessions.set(did, before!)],
			['delete', () => sessions.delete(did)],
			['take', () => states.take('state')],
			['clear', () => states.clear()],
		] as const) {
			const error = await run().then(
				(value: unknown) => ({ resolved: value }),
				(err: unknown) => err,
			);
			expect(error).toBeInstanceOf(StoreUnavailableError);
			expect(error).toMatchObject({ operation, transient: true });
		}
		// a restore reads the store: typed, and not a verdict on the session
		const restoreError = await client.restore(did).catch((err: unknown) => err);
		expect(restoreError).toBeInstanceOf(StoreUnavailableError);
		expect(restoreError).toMatchObject({ operation: 'get', transient: true });
		// a held session whose token is now stale needs the lock to refresh: typed, too
		clock.advance(2 * 3600 * 1000);
		const refreshError = await held
			.handle('/xrpc/com.atproto.server.getSession')
			.catch((err: unknown) => err);
		expect(refreshError).toBeInstanceOf(LockUnavailableError);
		expect(refreshError).toMatchObject({ transient: true });
		// nothing reached the token endpoint
		expect(server.stats.refreshAttempts).toBe(0);

		await postgres.start();
		// the pools reconnect on their own; the session is still there, unchanged
		await expect
			.poll(() => sessions.get(did).catch((err: unknown) => err), { timeout: 10_000, interval: 100 })
			.toEqual(before);

		const response = await held.handle('/xrpc/com.atproto.server.getSession');
		expect(response.status).toBe(200);
		expect(server.stats.token.refresh_token).toBe(1);
		const current = server.sessions(did).at(-1)!;
		expect(current.active).toBe(true);
		expect((await sessions.get(did))!.tokenSet.refresh_token).toBe(current.refreshToken);
		expect((await client.restore(did)).did).toBe(did);
		expect(await advisoryHolders(admin)).toEqual([]);
		server.assertNoRejections();
	});

	it("reports the lock lost when the holder's backend is terminated mid-refresh, and the next refresh works", {
		timeout: 60_000,
	}, async () => {
		const lost: LeaseLostEvent[] = [];
		const { client, sessions, did } = await setup((event) => lost.push(event));
		const session = await client.restore(did);
		server.reset();
		// the token request is open long enough to end the holder's backend under it
		server.behaviour.tokenDelayMs = 1_000;
		clock.advance(2 * 3600 * 1000);

		const refreshed = session.handle('/xrpc/com.atproto.server.getSession');
		await expect.poll(() => advisoryHolders(admin), { timeout: 10_000, interval: 20 }).toHaveLength(1);
		const [pid] = await advisoryHolders(admin);
		await admin.query('SELECT pg_terminate_backend($1)', [pid]);

		// the refresh in flight finishes and is stored; the loss is reported, not hidden
		const response = await refreshed;
		expect(response.status).toBe(200);
		await expect.poll(() => lost).toMatchObject([{ reason: 'connection_lost' }]);
		expect(server.stats.token.refresh_token).toBe(1);
		expect((await sessions.get(did))!.tokenSet.refresh_token).toBe(server.sessions(did).at(-1)!.refreshToken);

		// the next refresh takes the lock on a fresh connection
		server.behaviour.tokenDelayMs = undefined;
		clock.advance(2 * 3600 * 1000);
		const again = await session.handle('/xrpc/com.atproto.server.getSession');
		expect(again.status).toBe(200);
		expect(server.stats.token.refresh_token).toBe(2);
		expect((await sessions.get(did))!.tokenSet.refresh_token).toBe(server.sessions(did).at(-1)!.refreshToken);
		expect(lost).toHaveLength(1);
		expect(await advisoryHolders(admin)).toEqual([]);
		server.assertNoRejections();
	});

	it("sends no refresh token after the holder's backend is terminated before its token request, and adopts the refresh another process made", {
		timeout: 60_000,
	}, async () => {
		const lost: LeaseLostEvent[] = [];
		const { client, sessions, did, another } = await setup((event) => lost.push(event));
		const otherLocks = testPool(postgres.url);
		try {
			const other = await another(otherLocks);
			const session = await client.restore(did);
			server.reset();
			clock.advance(2 * 3600 * 1000);
			// the holder reads the DID document before its token request: slow enough to end its
			// backend meanwhile, and for another process to take the lock the server freed
			server.behaviour.didDocumentDelayMs = 1_500;
			const refreshed = session.handle('/xrpc/com.atproto.server.getSession');
			await expect.poll(() => advisoryHolders(admin), { timeout: 10_000, interval: 20 }).toHaveLength(1);
			const [pid] = await advisoryHolders(admin);
			await admin.query('SELECT pg_terminate_backend($1)', [pid]);
			await expect.poll(() => lost).toMatchObject([{ reason: 'connection_lost' }]);
			server.behaviour.didDocumentDelayMs = undefined;
			const theirs = await other.restore(did);
			expect(server.stats.token.refresh_token).toBe(1);

			// the first holder sent nothing under the lost lock: it took the lock again and adopted
			// the other's tokens, so the server never saw a refresh token twice
			const response = await refreshed;
			expect(response.status).toBe(200);
			expect(server.stats.token.refresh_token).toBe(1);
			expect((await sessions.get(did))!.tokenSet.refresh_token).toBe(
				server.sessions(did).at(-1)!.refreshToken,
			);
			expect((await theirs.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
			expect(await advisoryHolders(admin)).toEqual([]);
			server.assertNoRejections();
		} finally {
			await otherLocks.end();
		}
	});
});
