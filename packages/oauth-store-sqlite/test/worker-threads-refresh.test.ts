import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import type { Did } from '@atcute/lexicons';
import type { StoredSession, StoredState } from '@atcute/oauth-client';
import { exportJwkKey } from '@atcute/oauth-keys';
import { beforeEach, describe, expect, it } from 'vitest';

import { createTestClient, signIn, TEST_CLIENT_METADATA } from '../../oauth-client/src/test-utils/setup.ts';
import { createSqliteLock, SqliteStore } from '../src/index.ts';
import { openRawDatabase } from '../src/internal/test-raw-database.ts';
import { useAppTestEnv } from './support/use-app-test-env.ts';

// an app that runs as a pool of worker threads in one process (each thread its own OAuthClient on
// one SQLite file): a thread has its own globals and module instances, so the default lock, one
// per process as far as a thread can see, covers only its own thread.

const FIXTURE = fileURLToPath(new URL('./fixtures/oauth-thread.mjs', import.meta.url));
const THREADS = 4;
const CALLS_PER_THREAD = 25;

interface Done {
	type: 'done';
	ok: number;
	failures: Array<{ name: string; message: string }>;
	warnings: Array<{ name: string; code: string }>;
}

/** a thread of the app; its next message of `type` (rejects if the thread fails first). */
const startThread = (config: Record<string, unknown>) => {
	// no test-runner flags: the thread imports the built packages, as an app would
	const worker = new Worker(FIXTURE, { workerData: config, execArgv: [], stdout: true, stderr: true });
	const messages: Array<{ type: string }> = [];
	const waiting: Array<() => void> = [];
	let failed: unknown;
	worker.on('message', (message) => {
		messages.push(message);
		for (const wake of waiting.splice(0)) wake();
	});
	const fail = (err: unknown) => {
		failed ??= err;
		for (const wake of waiting.splice(0)) wake();
	};
	worker.on('error', fail);
	worker.on('exit', (code) => fail(new Error(`thread exited (${code})`)));
	const next = async <T>(type: string): Promise<T> => {
		for (;;) {
			const index = messages.findIndex((message) => message.type === type);
			if (index !== -1) return messages.splice(index, 1)[0] as T;
			if (failed !== undefined) throw failed;
			await new Promise<void>((resolve) => waiting.push(resolve));
		}
	};
	return { worker, next };
};

describe('token refresh across worker threads of one process sharing a SQLite file', () => {
	let accounts = 0;

	const env = useAppTestEnv();
	beforeEach(() => env.server?.reset());

	/** a signed-in account whose session in a new file is stale, its token endpoint slowed. */
	const staleAccount = async (leaseMs?: number) => {
		const path = env.temp.file(`threads-${++accounts}.db`);
		const sessions = new SqliteStore<Did, StoredSession>({ path, table: 'oauth_sessions' });
		const states = new SqliteStore<string, StoredState>({ path, table: 'oauth_states' });
		const lock = createSqliteLock({ path, lease: leaseMs });
		env.toClose.push(sessions, states, lock);
		const { client, key } = await createTestClient(env.server, {
			stores: { sessions, states },
			requestLock: lock,
		});
		const did = env.server.createAccount({ handle: `threads${accounts}.test` }).did as Did;
		await signIn(env.server, client, did);
		env.server.expireAccessTokens(did);
		const stored = (await sessions.get(did))!;
		await sessions.set(did, { ...stored, tokenSet: { ...stored.tokenSet, expires_at: Date.now() - 1000 } });
		env.server.reset();
		// the refresh stays open while the other threads' calls arrive
		env.server.behaviour.tokenDelayMs = 300;
		const config = {
			path,
			sessionsTable: 'oauth_sessions',
			statesTable: 'oauth_states',
			did,
			plcUrl: env.server.plcUrl,
			pdsUrl: env.server.pdsUrl,
			clientJwk: await exportJwkKey(key),
			metadata: TEST_CLIENT_METADATA,
			calls: CALLS_PER_THREAD,
			leaseMs,
		};
		return { did, client, sessions, config, path };
	};

	/** runs `THREADS` threads with `config`, all let go at once, and adds up what they report. */
	const runThreads = async (config: Record<string, unknown>) => {
		const threads = Array.from({ length: THREADS }, () => startThread(config));
		try {
			await Promise.all(threads.map((thread) => thread.next('ready')));
			for (const thread of threads) thread.worker.postMessage('go');
			return await Promise.all(threads.map((thread) => thread.next<Done>('done')));
		} finally {
			await Promise.all(threads.map((thread) => thread.worker.terminate()));
		}
	};

	it(`refreshes once for ${THREADS} threads × ${CALLS_PER_THREAD} concurrent calls with the SQLite lock`, {
		timeout: 25_000,
	}, async () => {
		const { did, sessions, config } = await staleAccount();
		const done = await runThreads({ ...config, lock: 'sqlite' });

		expect(done.flatMap((result) => result.failures)).toEqual([]);
		expect(done.reduce((sum, result) => sum + result.ok, 0)).toBe(THREADS * CALLS_PER_THREAD);
		expect(env.server.stats.refreshAttempts).toBe(1);
		expect(env.server.stats.refreshByDid.get(did)).toBe(1);
		const current = env.server.sessions(did).at(-1)!;
		expect(current.active).toBe(true);
		expect((await sessions.get(did))!.tokenSet.refresh_token).toBe(current.refreshToken);
		// a lock was given: nothing to warn about (node:sqlite's ExperimentalWarning, on Node 22, is not ours)
		expect(
			done.flatMap((result) => result.warnings).filter((warning) => warning.name === 'DefaultLockWarning'),
		).toEqual([]);
		env.server.assertNoRejections();
	});

	it('warns in every thread whose client has no requestLock, where the default lock does not keep threads apart', {
		timeout: 25_000,
	}, async () => {
		const { config } = await staleAccount();
		const done = await runThreads({ ...config, lock: 'default' });

		for (const result of done) {
			expect(result.warnings).toContainEqual({
				name: 'DefaultLockWarning',
				code: 'ATCUTE_OAUTH_DEFAULT_LOCK',
			});
		}
	});

	it('refreshes normally after a thread holding the SQLite lock was terminated mid-refresh', {
		timeout: 25_000,
	}, async () => {
		const { did, client, sessions, config, path } = await staleAccount(1_000);
		const before = (await sessions.get(did))!.tokenSet.refresh_token;
		// the holder stalls on discovery, inside the lock and before the token request: terminated
		// there, it has not spent the refresh token
		env.server.behaviour.tokenDelayMs = undefined;
		env.server.behaviour.metadataDelayMs = 10_000;
		const leases = () => {
			const database = openRawDatabase(path, { readonly: true });
			try {
				return database.prepare('SELECT name FROM oauth_locks').all();
			} finally {
				database.close();
			}
		};
		const holder = startThread({ ...config, lock: 'sqlite', mode: 'refresh' });
		try {
			await holder.next('ready');
			holder.worker.postMessage('go');
			await expect.poll(leases, { timeout: 10_000, interval: 20 }).toHaveLength(1);
		} finally {
			await holder.worker.terminate();
		}
		env.server.behaviour.metadataDelayMs = undefined;

		// this thread waits out the terminated holder's lease, then refreshes once
		await client.restore(did, { refresh: true });
		expect(env.server.stats.refreshAttempts).toBe(1);
		const current = env.server.sessions(did).at(-1)!;
		expect(current.active).toBe(true);
		const stored = (await sessions.get(did))!.tokenSet.refresh_token;
		expect(stored).not.toBe(before);
		expect(stored).toBe(current.refreshToken);
		expect(leases()).toEqual([]);
	});
});
