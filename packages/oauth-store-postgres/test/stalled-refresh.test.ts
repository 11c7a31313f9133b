import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import type { Did } from '@atcute/lexicons';
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
		let waitForOther: (() => Promise<void>) | undefined;
		let stallArmed = false;
		const inner = actorResolverFor(server);
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
			// event loop stalls past silentHolderMs, before the server's FATAL is read
			fetch: async (input, init) => {
				const response = await fetch(input, init);
				if (!(stallArmed && String(input).endsWith('/.well-known/oauth-protected-resource'))) return response;
				stallArmed = false;
				const body = await response.arrayBuffer();
				Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3 * SILENT_HOLDER_MS);
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
			// another process of the app waits for the account's lock
			child = spawn(process.execPath, [WAITER, database.url, prefix, `oauth-session-${did}`], {
				cwd: PACKAGE_DIR,
				stdio: ['ignore', 'pipe', 'inherit'],
			});
			exited = new Promise((resolve) => child!.once('exit', resolve));
			child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
			// while this holder heartbeats, it waits
			await new Promise((resolve) => setTimeout(resolve, 2_500));
		};
		const tokenRequests = () =>
			server.stats.requests.filter((request) => request.path === '/oauth/token').length;
		const before = tokenRequests();
		try {
			const outcome = await client.restore(did, { refresh: true }).then(
				() => 'refreshed',
				(err: unknown) => err,
			);
			// the other process did take the lock during the stall
			await expect.poll(() => stdout, { timeout: 10_000, interval: 20 }).toBe('held\n');
			expect({ waitForOther, stallArmed }).toEqual({ waitForOther: undefined, stallArmed: false });
			// nothing went to the token endpoint: the lock, lost, was found so right before it
			expect(tokenRequests()).toBe(before);
			expect(outcome).not.toBe('refreshed');
		} finally {
			child?.kill('SIGKILL');
			await exited;
		}
	}, 30_000);
});
