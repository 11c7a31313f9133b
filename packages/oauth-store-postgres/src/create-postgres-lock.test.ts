import { LockTimeoutError, LockUnavailableError } from '@atcute/oauth-client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPostgresLock } from './create-postgres-lock.ts';

import type { LeaseLostEvent } from './errors.ts';
import { startDelayProxy } from './test-utils/delay-proxy.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

/** the backends holding an advisory lock in this database, with how many each holds. */
const advisoryHolders = async (admin: pg.Pool): Promise<number[]> => {
	const result = await admin.query(
		`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
	);
	return result.rows.map((row) => row.pid as number);
};

/** a port nothing listens on. */
const closedPort = async (): Promise<number> => {
	const { createServer } = await import('node:net');
	return new Promise((resolve) => {
		const server = createServer().listen(0, '127.0.0.1', () => {
			const { port } = server.address() as { port: number };
			server.close(() => resolve(port));
		});
	});
};

/** a server that accepts connections and never answers: a PostgreSQL that hangs at startup. */
const silentServer = async (): Promise<{ port: number; close: () => Promise<void> }> => {
	const { createServer } = await import('node:net');
	const sockets = new Set<import('node:net').Socket>();
	const server = createServer((socket) => {
		sockets.add(socket);
		socket.on('error', () => {});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.address() as { port: number }).port,
		close: () =>
			new Promise((resolve) => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
};

describe('createPostgresLock', () => {
	let database: TestDatabase;
	let admin: pg.Pool;
	const pools: pg.Pool[] = [];
	const pool = (options?: pg.PoolConfig): pg.Pool => testPoolThrough(database.url, options);
	/** a pool on `url` (the database's, or a proxy's in front of it), ended after the tests. */
	const testPoolThrough = (url: string, options?: pg.PoolConfig): pg.Pool => {
		const each = testPool(url, options);
		pools.push(each);
		return each;
	};

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'lock');
		admin = testPool(database.url);
	});
	afterAll(async () => {
		await Promise.all(pools.map((each) => each.end()));
		await admin?.end();
		await database?.drop();
	});

	it.each([
		['pool', { pool: { query: () => {} } }, /pool must be a node-postgres Pool/],
		['prefix', { prefix: 1 }, /prefix must be a string/],
		['waitMs', { waitMs: -1 }, /waitMs must be a non-negative number/],
		['retryDelay', { retryDelay: 0 }, /retryDelay must be a positive number/],
		[
			'maxRetryDelay',
			{ retryDelay: 100, maxRetryDelay: 50 },
			/maxRetryDelay must be a number of milliseconds of at least retryDelay/,
		],
		['timeout', { timeout: Number.NaN }, /timeout must be a positive number/],
		['heartbeatMs', { heartbeatMs: 0 }, /heartbeatMs must be a positive number/],
		['onLeaseLost', { onLeaseLost: 'log' }, /onLeaseLost must be a function/],
		// past 2^31 - 1 ms a timer fires after 1 ms: every call failed at once, or heartbeats ran every ms
		['timeout', { timeout: 3e9 }, /timeout must be a positive number of milliseconds up to 2147483647/],
		['heartbeatMs', { heartbeatMs: 3e9 }, /heartbeatMs must be .* up to 2147483647/],
		['retryDelay', { retryDelay: 2 ** 31 }, /retryDelay must be .* up to 2147483647/],
		['maxRetryDelay', { maxRetryDelay: 2 ** 31 }, /maxRetryDelay must be .* at most 2147483647/],
	])('refuses a bad %s with a TypeError naming it', (_name, override, message) => {
		expect(() => createPostgresLock({ pool: admin, ...override } as never)).toThrow(
			expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(message) }),
		);
	});

	it('holds an advisory lock on one connection while the function runs, and gives it back to the pool after', async () => {
		const lockPool = pool();
		const lock = createPostgresLock({ pool: lockPool, prefix: uniqueName('hold') });
		const seen = await lock('did:plc:a', async () => ({
			holders: await advisoryHolders(admin),
			checkedOut: lockPool.totalCount - lockPool.idleCount,
		}));
		expect(seen.holders).toHaveLength(1);
		expect(seen.checkedOut).toBe(1);
		expect(await advisoryHolders(admin)).toEqual([]);
		// returned, not closed: the lock was released, so the connection is clean to reuse
		expect(lockPool.idleCount).toBe(1);
	});

	it('keeps no connection checked out while it waits', async () => {
		const lockPool = pool({ max: 2 });
		const lock = createPostgresLock({ pool: lockPool, prefix: uniqueName('wait'), waitMs: 600 });
		await lock('a', async () => {
			const waiting = lock('a', async () => 'never').catch((err: unknown) => err);
			// how many connections are out of the pool, sampled while the waiter waits: the holder's
			// one, and the waiter's only during an attempt (a connection kept between attempts
			// would make it two throughout)
			const checkedOut: number[] = [];
			for (let i = 0; i < 30; i++) {
				checkedOut.push(lockPool.totalCount - lockPool.idleCount);
				await new Promise((resolve) => setTimeout(resolve, 10));
			}
			expect(Math.min(...checkedOut)).toBe(1);
			// so the pool's second connection is there for the app between the waiter's attempts
			const client = await lockPool.connect();
			client.release();
			expect(await waiting).toBeInstanceOf(LockTimeoutError);
		});
	});

	it('reports a connection lost while held (the backend terminated), returns the result, and works after', async () => {
		const lost: LeaseLostEvent[] = [];
		const lock = createPostgresLock({
			pool: pool(),
			prefix: uniqueName('terminated'),
			onLeaseLost: (event) => lost.push(event),
		});
		const result = await lock('did:plc:a', async (signal) => {
			expect(signal?.aborted).toBe(false);
			const [pid] = await advisoryHolders(admin);
			await admin.query('SELECT pg_terminate_backend($1)', [pid]);
			// the server freed the lock with the connection
			await expect.poll(() => advisoryHolders(admin)).toEqual([]);
			await expect.poll(() => lost.length).toBe(1);
			// aborted with the report, so a refresh not yet sent is not sent
			expect(signal?.aborted).toBe(true);
			return 'finished';
		});
		expect(result).toBe('finished');
		expect(lost).toMatchObject([{ name: 'did:plc:a', reason: 'connection_lost' }]);
		await expect(lock('did:plc:a', async () => 'again')).resolves.toBe('again');
		expect(lost).toHaveLength(1);
		expect(await advisoryHolders(admin)).toEqual([]);
	});

	it("reports a heartbeat not answered in time, but aborts the holder's signal only when the connection ends", async () => {
		// the holder's connection goes through a proxy that can hold back what it sends: a heartbeat
		// whose answer comes after its time limit, as on a slow network, or when a stalled event loop
		// reads the answer only after the limit fired (which Node 20 does, and 22 and 24 do not)
		const proxy = await startDelayProxy(database.url);
		try {
			const lost: LeaseLostEvent[] = [];
			const lock = createPostgresLock({
				pool: testPoolThrough(proxy.url),
				prefix: uniqueName('unanswered'),
				heartbeatMs: 300,
				timeout: 300,
				silentHolderMs: 20_000,
				onLeaseLost: (event) => lost.push(event),
			});
			await lock('did:plc:a', async (signal) => {
				proxy.delayMs = 1_000;
				await expect
					.poll(() => lost.map((event) => event.reason), { timeout: 5_000 })
					.toEqual(['unconfirmed']);
				proxy.delayMs = 0;
				await proxy.flushed();
				// the lock is still held (it goes only with the connection): the holder goes on
				expect(await advisoryHolders(admin)).toHaveLength(1);
				expect(signal?.aborted).toBe(false);
				// now it does go
				const [pid] = await advisoryHolders(admin);
				await admin.query('SELECT pg_terminate_backend($1)', [pid]);
				await expect.poll(() => signal?.aborted).toBe(true);
			});
			expect(lost).toHaveLength(1);
		} finally {
			await proxy.close();
		}
	});

	it('returns the result without waiting a query timeout on a database that stopped answering while held', async () => {
		// a query timeout far longer than the release wait: the result must not wait for it
		const lock = createPostgresLock({
			pool: pool(),
			prefix: uniqueName('frozen'),
			timeout: 20_000,
			onLeaseLost: () => {},
		});
		let frozen: number | undefined;
		try {
			let frozenAt = 0;
			const result = await lock('did:plc:a', async () => {
				// the holder's own backend (a process of the server these tests started) stops answering
				[frozen] = await advisoryHolders(admin);
				process.kill(frozen!, 'SIGSTOP');
				frozenAt = performance.now();
				return 'kept';
			});
			expect(result).toBe('kept');
			expect(performance.now() - frozenAt).toBeLessThan(10_000);
		} finally {
			if (frozen !== undefined) process.kill(frozen, 'SIGCONT');
		}
		// once it answers again, the unlock went through in the background
		await expect.poll(() => advisoryHolders(admin)).toEqual([]);
	});

	it('gives up waiting within waitMs and a moment when the database stops answering, not a whole query timeout later', {
		timeout: 60_000,
	}, async () => {
		const prefix = uniqueName('wait-bound');
		const holder = createPostgresLock({ pool: pool(), prefix });
		// one connection, named, so the test can find its backend
		const application = uniqueName('waiter');
		const waiter = createPostgresLock({
			pool: pool({ max: 1, application_name: application }),
			prefix,
			// below the 1 s grace: every attempt after the first gets exactly that grace
			waitMs: 900,
			timeout: 20_000,
		});
		let frozen: number | undefined;
		try {
			await holder('did:plc:a', async () => {
				let ran = false;
				const waiting = waiter('did:plc:a', async () => {
					ran = true;
				}).catch((err: unknown) => err);
				// the waiter finds the name busy (its backend, a process of the server these tests
				// started, is idle after a pg_try_advisory_lock), then that backend stops answering
				// mid-wait: the first attempt, which gets the whole timeout, is over by then
				const backend = async (): Promise<number | undefined> => {
					const found = await admin.query(
						`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle' AND query LIKE '%pg_try_advisory_lock%'`,
						[application],
					);
					return found.rows[0]?.pid as number | undefined;
				};
				// the pid the poll found: asked again, the backend may be mid-retry (not idle) and not found
				let found: number | undefined;
				await expect
					.poll(async () => (found = await backend()), { timeout: 5_000, interval: 10 })
					.toBeTypeOf('number');
				frozen = found;
				process.kill(frozen!, 'SIGSTOP');
				const error = await waiting;
				expect(error).toBeInstanceOf(LockUnavailableError);
				// the attempt's limit was the 1 s grace (waitMs was nearly spent), not the 20 s timeout
				expect((error as Error).message).toBe(
					'lock "did:plc:a" could not be acquired: PostgreSQL did not answer within 1000 ms',
				);
				expect(ran).toBe(false);
			});
		} finally {
			if (frozen !== undefined) process.kill(frozen, 'SIGCONT');
		}
	});

	it('warns by default when a lock is lost while held', async () => {
		const warning = vi.fn();
		process.on('warning', warning);
		try {
			const lock = createPostgresLock({ pool: pool(), prefix: uniqueName('warn') });
			await lock('did:plc:a', async () => {
				const [pid] = await advisoryHolders(admin);
				await admin.query('SELECT pg_terminate_backend($1)', [pid]);
				await expect.poll(() => warning.mock.calls.length).toBe(1);
			});
			expect(warning.mock.calls[0]![0]).toMatchObject({
				name: 'LeaseLostWarning',
				code: 'ATCUTE_OAUTH_LEASE_LOST',
			});
		} finally {
			process.off('warning', warning);
		}
	});

	it('fails with a LockUnavailableError without running the function when PostgreSQL cannot be reached', async () => {
		const down = pool({ connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/postgres` });
		const lock = createPostgresLock({ pool: down, timeout: 2_000 });
		let ran = false;
		const error = await lock('did:plc:a', async () => {
			ran = true;
		}).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(LockUnavailableError);
		expect(error).toMatchObject({
			lockName: 'did:plc:a',
			transient: true,
			message: expect.stringMatching(/ECONNREFUSED/),
		});
		expect(ran).toBe(false);
	});

	it('fails with a LockUnavailableError when the pool has no connection to give in time', async () => {
		const full = pool({ max: 1 });
		const taken = await full.connect();
		try {
			const lock = createPostgresLock({ pool: full, timeout: 200 });
			const error = await lock('a', async () => {}).catch((err: unknown) => err);
			expect(error).toBeInstanceOf(LockUnavailableError);
			// the pool is full: the message names that cause, and the other one it cannot tell apart
			expect((error as Error).message).toBe(
				'lock "a" could not be acquired: no connection of the pool within 200 ms: all 1 are in use or still connecting — PostgreSQL is not answering, or the pool is too small for the refreshes in flight (each held name keeps one; give the lock a pool of its own, or a larger max)',
			);
		} finally {
			taken.release();
		}
		// the connection the pool handed out after the lock gave up went back
		await expect.poll(() => full.idleCount).toBe(1);
	});

	it('does not blame the pool size alone when its only connection is still connecting to a PostgreSQL that does not answer', async () => {
		const silent = await silentServer();
		try {
			// pg-pool counts the connection it is opening: a pool of max 1 looks as full as when it is in use
			const hanging = pool({
				connectionString: `postgres://postgres@127.0.0.1:${silent.port}/postgres`,
				max: 1,
			});
			const lock = createPostgresLock({ pool: hanging, waitMs: 0, timeout: 500 });
			let ran = false;
			const error = await lock('a', async () => {
				ran = true;
			}).catch((err: unknown) => err);
			expect(error).toBeInstanceOf(LockUnavailableError);
			expect((error as Error).message).toMatch(
				/all 1 are in use or still connecting — PostgreSQL is not answering/,
			);
			expect(ran).toBe(false);
		} finally {
			await silent.close();
		}
	});

	it('gives the first attempt the whole timeout for its connection, however small waitMs', async () => {
		const silent = await silentServer();
		try {
			const hanging = pool({ connectionString: `postgres://postgres@127.0.0.1:${silent.port}/postgres` });
			const lock = createPostgresLock({ pool: hanging, waitMs: 0, timeout: 1_500 });
			const error = await lock('a', async () => 'ran').catch((err: unknown) => err);
			expect(error).toBeInstanceOf(LockUnavailableError);
			// 1 500 ms, not the 1 s left to an attempt made at the end of a wait
			expect((error as Error).message).toBe(
				'lock "a" could not be acquired: PostgreSQL did not answer within 1500 ms',
			);
		} finally {
			await silent.close();
		}
	});

	it('gives the first attempt the whole timeout for its query, however small waitMs', {
		timeout: 30_000,
	}, async () => {
		const application = uniqueName('first-query');
		const single = pool({ max: 1, application_name: application });
		// the pool's one connection, open and idle; its backend then stops answering
		(await single.connect()).release();
		const found = await admin.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [
			application,
		]);
		const frozen = found.rows[0]!.pid as number;
		process.kill(frozen, 'SIGSTOP');
		try {
			const lock = createPostgresLock({ pool: single, waitMs: 0, timeout: 1_500 });
			const error = await lock('a', async () => 'ran').catch((err: unknown) => err);
			expect(error).toBeInstanceOf(LockUnavailableError);
			expect((error as Error).message).toBe(
				'lock "a" could not be acquired: PostgreSQL did not answer within 1500 ms',
			);
		} finally {
			process.kill(frozen, 'SIGCONT');
		}
	});

	it('refuses a Client (one connection) with a TypeError, rather than fail every call after the first', async () => {
		const client = new pg.Client({ connectionString: database.url });
		expect(() => createPostgresLock({ pool: client as never })).toThrow(
			expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/not a Client/) }),
		);
		const checkedOut = await admin.connect();
		try {
			expect(() => createPostgresLock({ pool: checkedOut as never })).toThrow(/not a Client/);
		} finally {
			checkedOut.release();
		}
	});

	it('fails with a LockUnavailableError, not transient, on a pool that was ended', async () => {
		const ended = testPool(database.url);
		const lock = createPostgresLock({ pool: ended });
		await lock('a', async () => {});
		await ended.end();
		let ran = false;
		const error = await lock('a', async () => {
			ran = true;
		}).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(LockUnavailableError);
		// a retry loop that follows `transient` must stop: an ended pool never connects again
		expect(error).toMatchObject({
			lockName: 'a',
			transient: false,
			message: expect.stringMatching(/the pool was ended \(pool\.end\(\) was called\)/),
			cause: expect.objectContaining({ message: 'Cannot use a pool after calling end on the pool' }),
		});
		expect(ran).toBe(false);
	});

	it('fails a waiter with a LockUnavailableError, not transient, when its pool is ended while it waits', async () => {
		const prefix = uniqueName('ended-waiter');
		const holderLock = createPostgresLock({ pool: pool(), prefix });
		const waiting = testPool(database.url);
		const waiterLock = createPostgresLock({ pool: waiting, prefix, waitMs: 20_000 });
		let release!: () => void;
		let held!: () => void;
		const isHeld = new Promise<void>((resolve) => (held = resolve));
		const holder = holderLock('a', () => {
			held();
			return new Promise<void>((resolve) => (release = resolve));
		});
		await isHeld;
		const started = performance.now();
		const waiter = waiterLock('a', async () => 'ran').catch((err: unknown) => err);
		// the waiter tried once and is in its backoff
		await new Promise((resolve) => setTimeout(resolve, 100));
		const ending = waiting.end();
		const error = await waiter;
		expect(error).toBeInstanceOf(LockUnavailableError);
		expect(error).toMatchObject({ lockName: 'a', transient: false });
		// told at its next attempt, not after waitMs
		expect(performance.now() - started).toBeLessThan(5_000);
		release();
		await holder;
		await ending;
	});

	it('keeps locks of different prefixes apart', async () => {
		const lockPool = pool();
		const first = createPostgresLock({ pool: lockPool, prefix: uniqueName('p1'), waitMs: 0 });
		const second = createPostgresLock({ pool: lockPool, prefix: uniqueName('p2'), waitMs: 0 });
		await first('same-name', async () => {
			await expect(second('same-name', async () => 'other prefix')).resolves.toBe('other prefix');
			await expect(first('same-name', async () => 'same prefix')).rejects.toBeInstanceOf(LockTimeoutError);
		});
	});
});
