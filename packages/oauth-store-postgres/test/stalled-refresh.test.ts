import { fileURLToPath } from 'node:url';

import type { Did } from '@atcute/lexicons';
import { type OtherProcess, stallingRefresh, startOtherProcess } from '@atcute-oauth/store-conformance';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
	actorResolverFor,
	createTestClient,
	signIn,
	startTestOAuthServer,
	type TestOAuthServer,
} from '../../oauth-client/src/test-utils/setup.ts';
import { createPostgresLock } from '../src/index.ts';
import {
	createTestDatabase,
	type TestDatabase,
	testPool,
	uniqueName,
} from '../src/test-utils/postgres-server.ts';
import { sharedPostgresUrl } from '../src/test-utils/shared-server.ts';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const WAITER = fileURLToPath(new URL('./fixtures/lock-waiter-child.mjs', import.meta.url));

// long enough that a loaded machine's timer delays do not end a live holder's session
const HEARTBEAT_MS = 1_000;
const SILENT_HOLDER_MS = 2_000;

// the whole client on the PostgreSQL lock: a process whose event loop stalls past silentHolderMs
// before its refresh token goes out has its session ended by the server, which frees the lock; it
// must not send the token once another process has taken the lock meanwhile (a refresh token the
// server sees twice ends the grant)
describe('a refresh whose process stalled past silentHolderMs before it sent the refresh token', () => {
	let database: TestDatabase;
	let pool: pg.Pool;
	let server: TestOAuthServer;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'stalled_refresh');
		pool = testPool(database.url);
		server = await startTestOAuthServer();
	}, 180_000);
	afterAll(async () => {
		await server?.close();
		await pool?.end();
		await database?.drop();
	});

	it('sends no refresh token once another process took the lock during the stall', async () => {
		const prefix = uniqueName('stalled_refresh');
		const stall = stallingRefresh(actorResolverFor(server), 3 * SILENT_HOLDER_MS);
		const { client } = await createTestClient(server, {
			requestLock: createPostgresLock({
				pool,
				prefix,
				heartbeatMs: HEARTBEAT_MS,
				silentHolderMs: SILENT_HOLDER_MS,
				waitMs: 3_000,
				// an unanswered heartbeat is not what this is about
				timeout: 20_000,
				onLeaseLost: () => {},
			}),
			// the refresh looks up the account's identity under the lock (another process starts waiting
			// for it then); resumed by the answer of its last request before the token request, the
			// event loop stalls (see stallingRefresh)
			actorResolver: stall.actorResolver,
			fetch: stall.fetch,
		});
		const did = server.createAccount({ handle: 'stalled.test' }).did as Did;
		await signIn(server, client, did);

		let other: OtherProcess | undefined;
		stall.beforeLookup(async () => {
			// another process of the app waits for the account's lock
			other = startOtherProcess([WAITER, database.url, prefix, `oauth-session-${did}`], PACKAGE_DIR);
			// while this holder keeps its lock, it waits
			await new Promise((resolve) => setTimeout(resolve, 2_500));
		});
		const tokenRequests = () =>
			server.stats.requests.filter((request) => request.path === '/oauth/token').length;
		const before = tokenRequests();
		try {
			const outcome = await client.restore(did, { refresh: true }).then(
				() => 'refreshed',
				(err: unknown) => err,
			);
			// the other process did take the lock during the stall
			await expect.poll(() => other?.stdout(), { timeout: 10_000, interval: 20 }).toBe('held\n');
			expect(stall.pending()).toEqual({ step: undefined, stallArmed: false });
			// nothing went to the token endpoint: the lock, lost, was found so right before it
			expect(tokenRequests()).toBe(before);
			expect(outcome).not.toBe('refreshed');
		} finally {
			await other?.kill();
		}
	}, 30_000);
});
