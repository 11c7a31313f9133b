import { LockTimeoutError, type StoredSession, type StoredState } from '@atcute/oauth-client';
import { describeCrossProcessRefresh } from '@atcute-oauth/store-conformance';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createRedisLock } from '../src/index.ts';
import { startAppProcess } from './support/children.ts';
import {
	connect,
	createTestClient,
	exportJwkKey,
	keysUnder,
	RedisStore,
	removeKeys,
	signIn,
	startTestOAuthServer,
	TEST_CLIENT_METADATA,
	type TestOAuthServer,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from './support/siblings.ts';

type Did = Parameters<typeof signIn>[2];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('token refresh across processes sharing Redis', () => {
	let redis: TestRedis;
	let admin: Redis;
	let server: TestOAuthServer;
	let accounts = 0;
	// every key prefix a test used, removed when the file is done
	const roots: string[] = [];

	beforeAll(async () => {
		// the children import the built packages, which the root vitest globalSetup builds first
		redis = await useTestRedis();
		admin = connect(redis.url);
		server = await startTestOAuthServer();
	}, 180_000);
	afterAll(async () => {
		for (const root of roots) await removeKeys(admin, root);
		await admin?.quit();
		await server?.close();
		await redis?.close();
	});
	beforeEach(() => server.reset());

	/** a new account signed in through the whole flow by this process, its session stored in Redis. */
	const signedInAccount = async (options: { leaseMs?: number } = {}) => {
		const root = uniquePrefix('cross-process');
		roots.push(root);
		const prefixes = {
			sessionPrefix: `${root}session:`,
			statePrefix: `${root}state:`,
			lockPrefix: `${root}lock:`,
		};
		const sessions = new RedisStore<Did, StoredSession>({ redis: admin, prefix: prefixes.sessionPrefix });
		const states = new RedisStore<string, StoredState>({ redis: admin, prefix: prefixes.statePrefix });
		const { client, key } = await createTestClient(server, {
			stores: { sessions, states },
			requestLock: createRedisLock({ redis: admin, prefix: prefixes.lockPrefix, ...options }),
		});
		const did = server.createAccount({ handle: `user${++accounts}.test` }).did as Did;
		await signIn(server, client, did);

		/** every process configured like this one, on the same Redis. */
		const childConfig = {
			...prefixes,
			leaseMs: options.leaseMs,
			redisUrl: redis.url,
			did,
			plcUrl: server.plcUrl,
			pdsUrl: server.pdsUrl,
			// the client's private key, as an app would read it from its environment
			clientJwk: await exportJwkKey(key),
			metadata: TEST_CLIENT_METADATA,
		};
		return { did, client, sessions, states, childConfig, root };
	};

	describeCrossProcessRefresh({
		server: () => server,
		signedInAccount: async (options) => {
			const account = await signedInAccount(options);
			return { ...account, locksLeft: () => keysUnder(admin, `${account.root}lock:`) };
		},
		startApp: startAppProcess,
		sharedLock: 'redis',
	});

	it('lets the next holder in once the lease of a holder killed mid-hold runs out', {
		timeout: 60_000,
	}, async () => {
		const root = uniquePrefix('killed-holder');
		roots.push(root);
		const leaseMs = 1_200;
		const holder = startAppProcess({
			...(await signedInAccount()).childConfig,
			lockPrefix: `${root}lock:`,
			lock: 'redis',
			leaseMs,
			mode: 'hold-lock',
			lockName: 'held',
		});
		try {
			await holder.next('ready');
			holder.go();
			await holder.next('holding');

			const lock = createRedisLock({ redis: admin, prefix: `${root}lock:`, leaseMs, waitMs: 0 });
			// past a whole lease the holder still has it: it renews from its own process
			await sleep(1.5 * leaseMs);
			await expect(lock('held', async () => 'stolen')).rejects.toBeInstanceOf(LockTimeoutError);

			await holder.kill();
			// nothing renews it now; it runs out within one lease
			expect(await admin.pttl(`${root}lock:held`)).toBeLessThanOrEqual(leaseMs);
			const waiter = createRedisLock({ redis: admin, prefix: `${root}lock:`, leaseMs, waitMs: 10 * leaseMs });
			await expect(waiter('held', async () => 'mine')).resolves.toBe('mine');
		} finally {
			await holder.kill();
		}
	});
});
