import { spawn } from 'node:child_process';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

import { LockTimeoutError } from '@atcute/oauth-client';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresLock } from './create-postgres-lock.ts';

import type { LeaseLostEvent } from './errors.ts';
import type { PgPool } from './queryable.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

// a holder that goes silent without closing its connection (its host lost power or its network,
// its process or machine froze) must not keep the lock for as long as the server's TCP keepalive
// takes to notice (over 2 hours by default), or for ever: the server ends its session after
// silentHolderMs, and another process takes the lock within its waitMs.

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** the backends holding an advisory lock in this database. */
const advisoryHolders = async (admin: pg.Pool): Promise<number[]> => {
	const result = await admin.query(
		`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
	);
	return result.rows.map((row) => row.pid as number);
};

/**
 * a loopback TCP proxy to the server on `port` that can go silent: after `silence()` no byte
 * passes either way and both sides of every connection stay open, so the server gets neither data
 * nor a FIN nor a RST, as when the client's host loses power or its network. `lag(ms)` holds the
 * server's answers back that long (0: no more), as a slow network moment does.
 */
const silenceableProxy = async (port: number) => {
	let silent = false;
	let lagMs = 0;
	const sockets = new Set<Socket>();
	const server = createServer((client) => {
		const upstream = connect(port, '127.0.0.1');
		for (const socket of [client, upstream]) {
			sockets.add(socket);
			socket.on('error', () => {});
		}
		client.on('data', (chunk) => {
			if (!silent) upstream.write(chunk);
		});
		upstream.on('data', (chunk) => {
			if (silent) return;
			if (lagMs === 0) client.write(chunk);
			else setTimeout(() => client.write(chunk), lagMs);
		});
		// until it is silenced, one side closing closes the other
		client.on('close', () => {
			if (!silent) upstream.destroy();
		});
		upstream.on('close', () => {
			if (!silent) client.destroy();
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.address() as AddressInfo).port,
		silence: (): void => {
			silent = true;
		},
		lag: (ms: number): void => {
			lagMs = ms;
		},
		close: (): Promise<void> =>
			new Promise((resolve) => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
};

/**
 * a holder in a process of its own (the built package): it takes the lock with short intervals,
 * prints `holding`, runs until killed, and prints `lost <reason>` if it finds the lock lost.
 */
const HOLDER = `
import { createPostgresLock } from '@atcute/oauth-store-postgres';
import pg from 'pg';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
pool.on('error', () => {});
const lock = createPostgresLock({
	pool,
	prefix: process.env.PREFIX,
	heartbeatMs: 200,
	silentHolderMs: 1500,
	// a heartbeat unanswered for this long would be reported as unconfirmed: far past the test
	timeout: 60000,
	onLeaseLost: (event) => console.log('lost ' + event.reason),
});
await lock('did:plc:a', async () => {
	console.log('holding');
	await new Promise(() => setInterval(() => {}, 60000));
});
`;

/** the holder processes still running: a test that timed out leaves its own to `afterAll`. */
const holders = new Set<() => Promise<void>>();

/**
 * starts `HOLDER`; `line(start)` resolves with the first line it printed that begins with `start`,
 * and rejects if it exits before printing one.
 */
const startHolder = (env: Record<string, string>) => {
	const child = spawn(process.execPath, ['--input-type=module', '-e', HOLDER], {
		cwd: PACKAGE_DIR,
		env: { ...process.env, ...env },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	const lines: string[] = [];
	let partial = '';
	let stderr = '';
	const waiters = new Set<() => void>();
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
		partial += chunk;
		const parts = partial.split('\n');
		partial = parts.pop() ?? '';
		lines.push(...parts);
		for (const wake of waiters) wake();
	});
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
		stderr += chunk;
	});
	// by its pid; SIGKILL ends a stopped process too
	const kill = async (): Promise<void> => {
		if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
		await exited;
		holders.delete(kill);
	};
	holders.add(kill);
	return {
		pid: child.pid!,
		line: (start: string): Promise<string> =>
			new Promise((resolve, reject) => {
				const check = (): void => {
					const found = lines.find((line) => line.startsWith(start));
					if (found === undefined) return;
					waiters.delete(check);
					resolve(found);
				};
				waiters.add(check);
				check();
				void exited.then(() => reject(new Error(`holder exited before a line "${start}…": ${stderr}`)));
			}),
		kill,
	};
};

describe('createPostgresLock when a holder goes silent', () => {
	let database: TestDatabase;
	let admin: pg.Pool;
	const pools: pg.Pool[] = [];
	const pool = (options?: pg.PoolConfig): pg.Pool => {
		const each = testPool(database.url, options);
		pools.push(each);
		return each;
	};

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'lock_host_loss');
		admin = testPool(database.url);
	});
	afterAll(async () => {
		await Promise.all([...holders].map((kill) => kill()));
		await Promise.all(pools.map((each) => each.end()));
		await admin?.end();
		await database?.drop();
	});

	it('lets a waiter take the lock of a holder whose host vanished (its connection silent, never closed) before its waitMs runs out', {
		timeout: 30_000,
	}, async () => {
		const proxy = await silenceableProxy(Number(new URL(database.url).port));
		const throughProxy = new URL(database.url);
		throughProxy.port = String(proxy.port);
		const prefix = uniqueName('vanished');
		const lost: LeaseLostEvent[] = [];
		const holder = createPostgresLock({
			pool: pool({ connectionString: throughProxy.toString() }),
			prefix,
			heartbeatMs: 200,
			silentHolderMs: 1_500,
			timeout: 2_000,
			onLeaseLost: (event) => lost.push(event),
		});
		let finish = (): void => {};
		let started = (): void => {};
		const holding = new Promise<void>((resolve) => {
			started = resolve;
		});
		const running = holder('did:plc:a', () => {
			started();
			return new Promise<string>((resolve) => {
				finish = () => resolve('done');
			});
		});
		try {
			await holding;
			// a live holder keeps its lock past silentHolderMs: its heartbeats never leave its
			// session idle that long
			await sleep(3_000);
			expect(lost).toEqual([]);
			expect(await advisoryHolders(admin)).toHaveLength(1);
			const impatient = createPostgresLock({ pool: pool(), prefix, waitMs: 0 });
			await expect(impatient('did:plc:a', async () => 'taken')).rejects.toBeInstanceOf(LockTimeoutError);

			// the holder's host vanishes: nothing it sends reaches the server any more, not even a FIN
			proxy.silence();
			// the server ends the silent session, which frees the lock, well before waitMs runs out
			// (without a bound the lock stayed held, and this failed with LockTimeoutError)
			const waiter = createPostgresLock({ pool: pool(), prefix, waitMs: 5_000 });
			await expect(waiter('did:plc:a', async () => 'mine')).resolves.toBe('mine');
			// the holder, still running behind the silent network, finds its heartbeat unanswered
			await expect
				.poll(() => lost.map((event) => event.reason), { timeout: 10_000 })
				.toEqual(['unconfirmed']);
		} finally {
			finish();
			await proxy.close();
			await running;
		}
	});

	it('keeps the lock of a holder whose heartbeat was answered late once, heartbeating on', {
		timeout: 30_000,
	}, async () => {
		const proxy = await silenceableProxy(Number(new URL(database.url).port));
		const throughProxy = new URL(database.url);
		throughProxy.port = String(proxy.port);
		const prefix = uniqueName('late');
		const lost: LeaseLostEvent[] = [];
		const holderPool = pool({ connectionString: throughProxy.toString() });
		// its connection opened before the lock's 250 ms limit applies: on a loaded machine (test files
		// run side by side) opening one through the proxy can take longer, and this test is about a
		// heartbeat's late answer, not the connect
		await holderPool.query('SELECT 1');
		const holder = createPostgresLock({
			pool: holderPool,
			prefix,
			heartbeatMs: 200,
			// far past the idle time a late answer leaves (the 400 ms lag, and a loaded machine's delays):
			// 600 ms ended the session of a live holder whose process stalled 250 ms at the wrong moment
			silentHolderMs: 1_500,
			timeout: 250,
			onLeaseLost: (event) => lost.push(event),
		});
		try {
			await holder('did:plc:a', async () => {
				// a slow network moment: a heartbeat's answer comes after its time limit
				proxy.lag(400);
				await expect
					.poll(() => lost.map((event) => event.reason), { timeout: 5_000 })
					.toEqual(['unconfirmed']);
				proxy.lag(0);
				// the holder runs on for several times silentHolderMs: its session must not be ended as
				// silent, nor its lock freed, while it runs
				await sleep(4_000);
				expect(await advisoryHolders(admin)).toHaveLength(1);
				const impatient = createPostgresLock({ pool: pool(), prefix, waitMs: 0 });
				await expect(impatient('did:plc:a', async () => 'taken')).rejects.toBeInstanceOf(LockTimeoutError);
			});
			expect(lost.map((event) => event.reason)).toEqual(['unconfirmed']);
		} finally {
			await proxy.close();
		}
	});

	it('lets a waiter take the lock of a frozen holder process (SIGSTOP), which reports connection_lost once it runs again', {
		timeout: 60_000,
	}, async () => {
		const prefix = uniqueName('frozen');
		const holder = startHolder({ DATABASE_URL: database.url, PREFIX: prefix });
		let frozen = false;
		try {
			await holder.line('holding');
			expect(await advisoryHolders(admin)).toHaveLength(1);
			// frozen (a paused VM, a process stopped in a debugger): its machine still answers TCP, so
			// no keepalive would ever end its session
			process.kill(holder.pid, 'SIGSTOP');
			frozen = true;
			const waiter = createPostgresLock({ pool: pool(), prefix, waitMs: 5_000 });
			await expect(waiter('did:plc:a', async () => 'mine')).resolves.toBe('mine');
			process.kill(holder.pid, 'SIGCONT');
			frozen = false;
			// running again, it finds its session ended by the server, and says so (its overdue
			// heartbeat, sent first, gets the server's FATAL: that too is a lost connection)
			expect(await holder.line('lost ')).toBe('lost connection_lost');
		} finally {
			if (frozen) process.kill(holder.pid, 'SIGCONT');
			await holder.kill();
		}
	});

	it('reports connection_lost when the server ends the session of a holder whose event loop was stuck past silentHolderMs', {
		timeout: 30_000,
	}, async () => {
		const lost: LeaseLostEvent[] = [];
		const lock = createPostgresLock({
			pool: pool(),
			prefix: uniqueName('stuck'),
			heartbeatMs: 100,
			silentHolderMs: 500,
			// an unanswered heartbeat is not what this is about
			timeout: 20_000,
			onLeaseLost: (event) => lost.push(event),
		});
		const result = await lock('did:plc:a', async () => {
			// a long synchronous step: no heartbeat goes out while it runs. the overdue heartbeat may
			// be sent just before the server's FATAL is read: it is still a lost connection, not an
			// unanswered heartbeat
			Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2_000);
			await expect.poll(() => lost.length).toBe(1);
			// the server ended the session, which freed the lock
			expect(await advisoryHolders(admin)).toEqual([]);
			return 'kept';
		});
		expect(result).toBe('kept');
		expect(lost).toMatchObject([{ name: 'did:plc:a', reason: 'connection_lost' }]);
		await expect(lock('did:plc:a', async () => 'again')).resolves.toBe('again');
		expect(lost).toHaveLength(1);
	});

	it('reports connection_lost when the holder returns in the very turn its event loop comes back from a stall past silentHolderMs', {
		timeout: 30_000,
	}, async () => {
		const lost: LeaseLostEvent[] = [];
		const lock = createPostgresLock({
			pool: pool(),
			prefix: uniqueName('stuck-return'),
			heartbeatMs: 100,
			silentHolderMs: 500,
			timeout: 20_000,
			onLeaseLost: (event) => lost.push(event),
		});
		const result = await lock('did:plc:a', async () => {
			// the stall ends and fn returns before the server's FATAL is read: the lock was free
			// (to anyone) meanwhile, which the release must still report
			Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2_000);
			return 'kept';
		});
		expect(result).toBe('kept');
		await expect.poll(() => lost.length).toBe(1);
		expect(lost).toMatchObject([{ name: 'did:plc:a', reason: 'connection_lost' }]);
		expect(await advisoryHolders(admin)).toEqual([]);
		await expect(lock('did:plc:a', async () => 'again')).resolves.toBe('again');
		expect(lost).toHaveLength(1);
	});

	it("sets idle_session_timeout on the holder's connection while it holds a name, and puts back the app's own after", async () => {
		const lockPool = pool({ max: 1 });
		// an app's own setting on its connections, which a RESET would drop
		lockPool.on('connect', (client) => {
			client.query(`SET idle_session_timeout = '7min'`).catch(() => {});
		});
		let checkedOut: pg.PoolClient | undefined;
		lockPool.on('acquire', (client) => {
			checkedOut = client;
		});
		const settings = async (client: pg.PoolClient) =>
			(
				await client.query(
					`SELECT current_setting('idle_session_timeout') AS idle, current_setting('tcp_user_timeout') AS tcp_user_timeout`,
				)
			).rows[0];
		const lock = createPostgresLock({ pool: lockPool, prefix: uniqueName('reset'), heartbeatMs: 1_000 });
		// 3 heartbeats by default; on PostgreSQL 14+ the TCP settings are left alone
		const during = await lock('did:plc:a', () => settings(checkedOut!));
		expect(during).toEqual({ idle: '3s', tcp_user_timeout: '0' });
		const client = await lockPool.connect();
		try {
			expect(await settings(client)).toEqual({ idle: '7min', tcp_user_timeout: '0' });
		} finally {
			client.release();
		}
		// returned, not closed
		expect(lockPool.totalCount).toBe(1);
	});

	it.each([
		['silentHolderMs', { silentHolderMs: 0 }, /silentHolderMs must be a positive number of milliseconds/],
		['silentHolderMs', { silentHolderMs: Number.NaN }, /silentHolderMs must be a positive number/],
		['silentHolderMs', { silentHolderMs: 3e9 }, /silentHolderMs must be .* up to 2147483647/],
		[
			'silentHolderMs',
			{ heartbeatMs: 1_000, silentHolderMs: 1_999 },
			/silentHolderMs must be at least 2 × heartbeatMs \(2000 ms\)/,
		],
		[
			'silentHolderMs',
			{ silentHolderMs: 9_999 },
			/silentHolderMs must be at least 2 × heartbeatMs \(10000 ms\)/,
		],
		// the default silentHolderMs, 3 heartbeats, would pass 2^31 - 1 ms
		['heartbeatMs', { heartbeatMs: 2e9 }, /heartbeatMs must be at most 1073741823 ms/],
		// seconds given for milliseconds: a server ending a holder's session after 15 ms of work
		[
			'heartbeatMs',
			{ heartbeatMs: 5 },
			/heartbeatMs is in milliseconds and at least 100, got 5 \(did you mean 5000\?\)/,
		],
		[
			'silentHolderMs',
			{ heartbeatMs: 100, silentHolderMs: 15 },
			/silentHolderMs is in milliseconds and at least 500, got 15/,
		],
	])('refuses a bad %s with a TypeError naming it (%o)', (_name, override, message) => {
		expect(() => createPostgresLock({ pool: admin, ...override } as never)).toThrow(
			expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(message) }),
		);
	});

	it('takes a silentHolderMs of 2 heartbeats or more', () => {
		expect(() =>
			createPostgresLock({ pool: admin, heartbeatMs: 1_000, silentHolderMs: 2_000 }),
		).not.toThrow();
		expect(() => createPostgresLock({ pool: admin, heartbeatMs: 1_073_741_823 })).not.toThrow();
	});
});

/**
 * a pool of one scripted connection: its lock query answers `row` (what a server of another
 * version answers; booleans come as text, as the lock asks), its unlock succeeds or fails. records every statement sent, and how the
 * connection went back (true: closed).
 */
const scriptedPool = (row: Record<string, unknown>, unlock: 'answers' | 'fails') => {
	const sent: { text: string; values: unknown[] }[] = [];
	const released: boolean[] = [];
	const client = {
		on: () => {},
		off: () => {},
		release: (destroy?: unknown) => void released.push(destroy === true),
		query: async ({ text, values = [] }: { text: string; values?: unknown[] }) => {
			sent.push({ text, values });
			if (text.includes('pg_try_advisory_lock')) return { rows: [row] };
			if (text.includes('pg_advisory_unlock') && unlock === 'fails') {
				throw Object.assign(new Error('invalid value for parameter'), { code: '22023', severity: 'ERROR' });
			}
			return { rows: [{ released: 'true' }] };
		},
	};
	return { pool: { connect: async () => client } as unknown as PgPool, sent, released };
};

describe("createPostgresLock settings on a holder's connection, by server version", () => {
	const TCP_BEFORE = {
		tcp_keepalives_idle: '7200',
		tcp_keepalives_interval: '75',
		tcp_keepalives_count: '9',
		tcp_user_timeout: '0',
	};

	it('on a server without idle_session_timeout (before 14) runs the function, with TCP keepalives and tcp_user_timeout of about silentHolderMs, and puts them back', async () => {
		const { pool, sent, released } = scriptedPool(
			{ acquired: 'true', idle_session_timeout: null, ...TCP_BEFORE, bounded: '8 3 3 15000' },
			'answers',
		);
		const lock = createPostgresLock({ pool, heartbeatMs: 5_000 });
		await expect(lock('a', async () => 'ran')).resolves.toBe('ran');
		// silentHolderMs 15 s: idle_session_timeout if the server has it, else keepalives idle 8 s,
		// then 3 probes 3 s apart, and tcp_user_timeout 15 s
		expect(sent[0]!.values.slice(1)).toEqual(['15000', '8', '3', '3', '15000']);
		const unlock = sent.find(({ text }) => text.includes('pg_advisory_unlock'))!;
		expect(unlock.values.slice(1)).toEqual([null, '7200', '75', '9', '0']);
		expect(released).toEqual([false]);
	});

	it('on PostgreSQL 14+ puts back only idle_session_timeout', async () => {
		const { pool, sent, released } = scriptedPool(
			{ acquired: 'true', idle_session_timeout: '0', ...TCP_BEFORE, bounded: '15s' },
			'answers',
		);
		await expect(createPostgresLock({ pool })('a', async () => 'ran')).resolves.toBe('ran');
		const unlock = sent.find(({ text }) => text.includes('pg_advisory_unlock'))!;
		expect(unlock.values.slice(1)).toEqual(['0', null, null, null, null]);
		expect(released).toEqual([false]);
	});

	it('closes, rather than returns to the pool, a connection whose settings could not be put back', async () => {
		const { pool, released } = scriptedPool(
			{ acquired: 'true', idle_session_timeout: '0', ...TCP_BEFORE, bounded: '15s' },
			'fails',
		);
		await expect(createPostgresLock({ pool })('a', async () => 'ran')).resolves.toBe('ran');
		expect(released).toEqual([true]);
	});
});
