import { fileURLToPath } from 'node:url';
import { type OtherProcess, stallingRefresh, startOtherProcess } from '@atcute-oauth/store-conformance';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { actorResolverFor } from '../../oauth-client/src/test-utils/setup.ts';
import { createRedisLock } from '../src/index.ts';
import {
	connect,
	createTestClient,
	removeKeys,
	signIn,
	startTestOAuthServer,
	type TestOAuthServer,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from './support/siblings.ts';

type Did = Parameters<typeof signIn>[2];

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const HOLDER = fileURLToPath(new URL('./fixtures/lock-holder-child.mjs', import.meta.url));

// long enough that a loaded machine's timer delays do not lose it before the stall
const LEASE_MS = 1_000;

// the whole client on the Redis lock: a process whose event loop stalls past the lease while it
// looks up the account's identity, before its refresh token goes out, must not send it once another
// process has taken the account's lock meanwhile (a refresh token the server sees twice ends the grant)
describe('a refresh whose process stalled past the Redis lease before it sent the refresh token', () => {
	let redis: TestRedis;
	let admin: Redis;
	let server: TestOAuthServer;
	const prefix = uniquePrefix('stalled-refresh');

	beforeAll(async () => {
		redis = await useTestRedis();
		admin = connect(redis.url);
		server = await startTestOAuthServer();
	}, 180_000);
	afterAll(async () => {
		if (admin !== undefined) await removeKeys(admin, prefix);
		await admin?.quit();
		await server?.close();
		await redis?.close();
	});

	it('sends no refresh token once another process took the lock during the stall', async () => {
		const stall = stallingRefresh(actorResolverFor(server), 3 * LEASE_MS);
		const { client } = await createTestClient(server, {
			requestLock: createRedisLock({
				redis: admin,
				prefix,
				leaseMs: LEASE_MS,
				waitMs: 3_000,
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
			other = startOtherProcess(
				[HOLDER, redis.url, prefix, `oauth-session-${did}`, String(LEASE_MS)],
				PACKAGE_DIR,
			);
			// while this holder keeps its lock, it waits
			await new Promise((resolve) => setTimeout(resolve, 2_000));
		});
		const refreshes = () => server.stats.requests.filter((request) => request.path === '/oauth/token').length;
		const before = refreshes();
		try {
			const outcome = await client.restore(did, { refresh: true }).then(
				() => 'refreshed',
				(err: unknown) => err,
			);
			// the other process did take the lock during the stall
			await expect.poll(() => other?.stdout(), { timeout: 10_000, interval: 20 }).toBe('held\n');
			expect(stall.pending()).toEqual({ step: undefined, stallArmed: false });
			// nothing went to the token endpoint: the lock, lost, was found so right before it
			expect(refreshes()).toBe(before);
			expect(outcome).not.toBe('refreshed');
		} finally {
			await other?.kill();
		}
	}, 30_000);
});
