import { LockTimeoutError, type StoredSession } from '@atcute/oauth-client';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createRedisLock } from '../src/index.ts';
import { type AppProcess, startAppProcess } from './support/children.ts';
import {
	CLIENT_ID,
	connect,
	createTestClient,
	exportJwkKey,
	keysUnder,
	REDIRECT_URI,
	RedisStore,
	removeKeys,
	signIn,
	startTestOAuthServer,
	type TestOAuthServer,
	type TestRedis,
	uniquePrefix,
	useTestRedis,
} from './support/siblings.ts';

type Did = Parameters<typeof signIn>[2];

/** the metadata the client test setup registers; every app process must present the same. */
const METADATA = {
	client_id: CLIENT_ID,
	redirect_uris: [REDIRECT_URI, 'https://app.example.com/oauth/other'],
	scope: ['atproto', 'transition:generic'],
};

const PROCESSES = 4;
const CALLS_PER_PROCESS = 25;

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
		const { client, key } = await createTestClient(server, {
			stores: { sessions, states: new RedisStore({ redis: admin, prefix: prefixes.statePrefix }) },
			requestLock: createRedisLock({ redis: admin, prefix: prefixes.lockPrefix, ...options }),
		});
		const did = server.createAccount({ handle: `user${++accounts}.test` }).did as Did;
		await signIn(server, client, did);

		/** every process configured like this one, on the same Redis. */
		const childConfig = {
			...prefixes,
			redisUrl: redis.url,
			did,
			plcUrl: server.plcUrl,
			pdsUrl: server.pdsUrl,
			// the client's private key, as an app would read it from its environment
			clientJwk: await exportJwkKey(key),
			metadata: METADATA,
		};
		return { did, client, sessions, childConfig, root };
	};

	/** ends the access token at the server and marks it expired in the stored session. */
	const makeStale = async (sessions: RedisStore<Did, StoredSession>, did: Did): Promise<void> => {
		server.expireAccessTokens(did);
		const stored = (await sessions.get(did))!;
		await sessions.set(did, { ...stored, tokenSet: { ...stored.tokenSet, expires_at: Date.now() - 1000 } });
	};

	/** starts the app processes, lets them all go at once, and gathers their results. */
	const runApps = async (config: Record<string, unknown>) => {
		const apps: AppProcess[] = Array.from({ length: PROCESSES }, () =>
			startAppProcess({ ...config, mode: 'calls', calls: CALLS_PER_PROCESS }),
		);
		try {
			// every process is up and connected before any starts, so they really run together
			await Promise.all(apps.map((app) => app.next('ready')));
			for (const app of apps) app.go();
			const results = await Promise.all(apps.map((app) => app.next('done')));
			await Promise.all(apps.map((app) => app.exited));
			return {
				ok: results.reduce((sum, result) => sum + result.ok, 0),
				failures: results.flatMap((result) => result.failures),
			};
		} finally {
			await Promise.all(apps.map((app) => app.kill()));
		}
	};

	it(`refreshes once for ${PROCESSES} processes × ${CALLS_PER_PROCESS} concurrent calls on a stale session, all succeeding (R1)`, {
		timeout: 60_000,
	}, async () => {
		const { did, sessions, childConfig, root } = await signedInAccount();
		await makeStale(sessions, did);
		server.reset();
		// a slow token endpoint keeps the refresh open while the other processes wait for the lock
		server.behaviour.tokenDelayMs = 300;

		const { ok, failures } = await runApps({ ...childConfig, lock: 'redis' });

		expect(failures).toEqual([]);
		expect(ok).toBe(PROCESSES * CALLS_PER_PROCESS);
		// the refresh token reached the server exactly once
		expect(server.stats.refreshAttempts).toBe(1);
		expect(server.stats.token.refresh_token).toBe(1);
		expect(server.stats.refreshByDid.get(did)).toBe(1);
		expect(server.stats.resource).toBe(PROCESSES * CALLS_PER_PROCESS);
		// the store holds the newest refresh token, the one the server will accept next
		const current = server.sessions(did).at(-1)!;
		expect(current.active).toBe(true);
		expect((await sessions.get(did))!.tokenSet.refresh_token).toBe(current.refreshToken);
		// every lease was released
		expect(await keysUnder(admin, `${root}lock:`)).toEqual([]);
		server.assertNoRejections();
	});

	it('spends the refresh token more than once without a shared lock (negative control: the test can fail)', {
		timeout: 60_000,
	}, async () => {
		const { did, sessions, childConfig } = await signedInAccount();
		await makeStale(sessions, did);
		server.reset();
		server.behaviour.tokenDelayMs = 300;

		// each process with a lock of its own, as with the default in-memory lock
		const { failures } = await runApps({ ...childConfig, lock: 'memory' });

		expect(server.stats.refreshAttempts).toBeGreaterThan(1);
		expect(server.stats.token.refresh_token > 1 || failures.length > 0).toBe(true);
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

	it('refreshes normally after the lock holder was killed mid-refresh, once its lease runs out', {
		timeout: 60_000,
	}, async () => {
		const leaseMs = 1_000;
		const { did, client, sessions, childConfig, root } = await signedInAccount({ leaseMs });
		const before = (await sessions.get(did))!.tokenSet.refresh_token;
		server.reset();
		// the holder stalls on discovery, inside the lock and before the token request: killed
		// there, it has not spent the refresh token. (killed after sending it, the server may
		// rotate the token with nobody to store the answer; no lock can save that session.)
		server.behaviour.metadataDelayMs = 10_000;
		const holder = startAppProcess({ ...childConfig, lock: 'redis', leaseMs, mode: 'refresh' });
		try {
			await holder.next('ready');
			holder.go();
			await expect
				.poll(() => keysUnder(admin, `${root}lock:`), { timeout: 10_000, interval: 20 })
				.toHaveLength(1);
			await holder.kill();
		} finally {
			await holder.kill();
		}
		server.behaviour.metadataDelayMs = undefined;

		// this process waits out the dead holder's lease, then refreshes
		const session = await client.restore(did, { refresh: true });
		expect(server.stats.refreshAttempts).toBe(1);
		expect(server.stats.token.refresh_token).toBe(1);
		const stored = (await sessions.get(did))!.tokenSet.refresh_token;
		expect(stored).not.toBe(before);
		expect(stored).toBe(server.sessions(did).at(-1)!.refreshToken);
		const response = await session.handle('/xrpc/com.atproto.server.getSession');
		expect(response.status).toBe(200);
		expect(await response.json()).toMatchObject({ did });
		expect(await keysUnder(admin, `${root}lock:`)).toEqual([]);
	});
});
