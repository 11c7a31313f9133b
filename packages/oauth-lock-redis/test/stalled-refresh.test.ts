import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
		let waitForOther: (() => Promise<void>) | undefined;
		let stallArmed = false;
		const inner = actorResolverFor(server);
		const { client } = await createTestClient(server, {
			requestLock: createRedisLock({
				redis: admin,
				prefix,
				leaseMs: LEASE_MS,
				waitMs: 3_000,
				onLeaseLost: () => {},
			}),
			// the refresh looks up the account's identity under the lock: another process starts
			// waiting for the lock then
			actorResolver: {
				resolve: async (...args: Parameters<typeof inner.resolve>) => {
					const wait = waitForOther;
					waitForOther = undefined;
					await wait?.();
					return inner.resolve(...args);
				},
			} as typeof inner,
			// its last request before the token request: resumed by its answer (an I/O callback), the
			// event loop stalls past the lease, before the overdue renewal runs
			fetch: async (input, init) => {
				const response = await fetch(input, init);
				if (!(stallArmed && String(input).endsWith('/.well-known/oauth-protected-resource'))) return response;
				stallArmed = false;
				const body = await response.arrayBuffer();
				Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3 * LEASE_MS);
				return new Response(body, response);
			},
		});
		const did = server.createAccount({ handle: 'stalled.test' }).did as Did;
		await signIn(server, client, did);

		let stdout = '';
		let child: ReturnType<typeof spawn> | undefined;
		let exited: Promise<unknown> | undefined;
		waitForOther = async () => {
			stallArmed = true;
			// another process of the app waits for the account's lock (its lock polls for it)
			child = spawn(process.execPath, [HOLDER, redis.url, prefix, `oauth-session-${did}`, String(LEASE_MS)], {
				cwd: PACKAGE_DIR,
				stdio: ['ignore', 'pipe', 'inherit'],
			});
			exited = new Promise((resolve) => child!.once('exit', resolve));
			child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
			// while this holder renews, it waits
			await new Promise((resolve) => setTimeout(resolve, 2_000));
		};
		const refreshes = () => server.stats.requests.filter((request) => request.path === '/oauth/token').length;
		const before = refreshes();
		try {
			const outcome = await client.restore(did, { refresh: true }).then(
				() => 'refreshed',
				(err: unknown) => err,
			);
			// the other process did take the lock during the stall
			await expect.poll(() => stdout, { timeout: 10_000, interval: 20 }).toBe('held\n');
			expect({ waitForOther, stallArmed }).toEqual({ waitForOther: undefined, stallArmed: false });
			// nothing went to the token endpoint: the lock, lost, was found so right before it
			expect(refreshes()).toBe(before);
			expect(outcome).not.toBe('refreshed');
		} finally {
			child?.kill('SIGKILL');
			await exited;
		}
	}, 30_000);
});
