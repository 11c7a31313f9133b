// the cancel of a statement given up on must reach it: a cancel that comes before the statement
// does is dropped by PostgreSQL (an idle backend ignores it), and a pooler (PgBouncer in transaction
// mode) forwards a cancel only while the client connection it names is open. so the connection is
// kept until the statement ends, and the cancel sent again until then
import { createHook } from 'node:async_hooks';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';

import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { StoreUnavailableError } from './errors.ts';
import { cancelUntilSettled } from './internal/cancel-until-settled.ts';
import { PostgresStore } from './postgres-store.ts';
import { type DelayProxy, startDelayProxy } from './test-utils/delay-proxy.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';
import { tightStore } from './test-utils/tight-store.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** polls `check` until it holds or `ms` pass; the last answer. */
const until = async (check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> => {
	const deadline = performance.now() + ms;
	for (;;) {
		if (await check()) return true;
		if (performance.now() > deadline) return false;
		await sleep(25);
	}
};

/** a frame of the store's own code (not the tests'), or of node-postgres. */
const OURS =
	/[/\\]oauth-store-postgres[/\\]src[/\\](?!test-utils)[^:]*(?<!\.test\.ts):|[/\\]node_modules[/\\](?:\.pnpm[/\\][^/\\]+[/\\]node_modules[/\\])?pg(?:-pool)?[/\\]/;

/**
 * the timers and TCP sockets the store or node-postgres makes from now on, and which of them are
 * still there: one left after the cancel is done is a leak (it may keep the process alive).
 */
const trackResources = () => {
	const live = new Map<number, string>();
	const seen = new Set<string>();
	const hook = createHook({
		init(id, type) {
			if (type !== 'Timeout' && type !== 'TCPWRAP') return;
			const limit = Error.stackTraceLimit;
			Error.stackTraceLimit = 40;
			const frame = new Error().stack?.split('\n').find((line) => OURS.test(line));
			Error.stackTraceLimit = limit;
			if (frame === undefined) return;
			live.set(id, `${type} ${frame.trim()}`);
			seen.add(type);
		},
		destroy(id) {
			live.delete(id);
		},
	});
	hook.enable();
	return { live: () => [...live.values()], seen: () => [...seen].sort(), stop: () => hook.disable() };
};

/** PostgreSQL's CancelRequest code (1234 << 16 | 5678). */
const CANCEL_REQUEST_CODE = 80877102;

describe('PostgresStore: the cancel of a statement given up on reaches it', () => {
	let database: TestDatabase;
	let proxy: DelayProxy;
	let pool: pg.Pool;
	let other: pg.Pool;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'cancel_race');
		other = testPool(database.url);
	});
	beforeEach(async () => {
		// the store's connections, and the cancels made from its pool's options, go through the proxy
		proxy = await startDelayProxy(database.url);
		pool = testPool(proxy.url);
	});
	afterEach(async () => {
		await pool?.end();
		await proxy?.close();
	});
	afterAll(async () => {
		await other?.end();
		await database?.drop();
	});

	/** the store's backends running an INSERT on `table`. */
	const activeInserts = async (table: string): Promise<number[]> =>
		(
			await other.query<{ pid: number }>(
				`SELECT pid FROM pg_stat_activity
				 WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
				   AND query LIKE 'INSERT INTO %' AND position($1 in query) > 0`,
				[table],
			)
		).rows.map((row) => row.pid);

	/** holds the row of `key` in `table` (FOR UPDATE, in an open transaction) until `commit`. */
	const holdRow = async (table: string, key: string) => {
		const holder = await other.connect();
		await holder.query('BEGIN');
		await holder.query(`SELECT 1 FROM "${table}" WHERE key = $1 FOR UPDATE`, [key]);
		let open = true;
		return {
			commit: async () => {
				if (open) await holder.query('COMMIT');
				open = false;
			},
			release: async () => {
				if (open) await holder.query('ROLLBACK').catch(() => {});
				open = false;
				holder.release();
			},
		};
	};

	const checkedOut = (): number => pool.totalCount - pool.idleCount;

	it('cancels a statement that reaches the server after the first cancel', { timeout: 20_000 }, async () => {
		const table = uniqueName('sessions');
		const store = await tightStore<string, { tokens: string }>({ pool, table, timeout: 100 });
		await store.set('did:plc:a', { tokens: 'T0' });
		const row = await holdRow(table, 'did:plc:a');
		try {
			// the upsert's bytes reach the server 800 ms late: the store gives up at 100 ms, and its
			// first cancel finds the backend idle, waiting for them, and is dropped
			proxy.delayMs = 800;
			const failed = await store.set('did:plc:a', { tokens: 'T1 (stale)' }).catch((err: unknown) => err);
			proxy.delayMs = 0;
			expect(failed).toBeInstanceOf(StoreUnavailableError);
			// the caller did not wait for the cancel: the connection is still checked out
			expect(checkedOut()).toBe(1);

			// the statement reaches the server, waits on the row lock, and is cancelled by a later cancel
			await proxy.flushed();
			expect(await until(() => checkedOut() === 0, 8_000)).toBe(true);
			await sleep(200);
			const stillWaiting = await activeInserts(table);

			await row.commit();
			// a statement still waiting would write now: give it the time to
			await until(async () => (await activeInserts(table)).length === 0, 3_000);
			await sleep(200);
			// read by a store with the default time limit: the 100 ms one is the statement under test,
			// and a loaded machine has taken longer than that for this read alone
			expect(await new PostgresStore({ pool, table }).get('did:plc:a')).toEqual({ tokens: 'T0' });
			expect(stillWaiting).toEqual([]);

			// sent more than once, each while the statement's connection was open
			const cancels = proxy.events.filter((event) => event.type === 'cancel');
			expect(cancels.length).toBeGreaterThanOrEqual(2);
			const pid = cancels[0]!.pid;
			expect(cancels.every((event) => event.pid === pid)).toBe(true);
			const closedAt = proxy.events.findIndex((event) => event.type === 'closed' && event.pid === pid);
			expect(closedAt).toBeGreaterThan(proxy.events.lastIndexOf(cancels.at(-1)!));
		} finally {
			proxy.delayMs = 0;
			await row.release();
		}
	});

	it('sends the cancel before closing the connection, and closes it once the statement ends', {
		timeout: 20_000,
	}, async () => {
		const table = uniqueName('states');
		const store = await tightStore<string, { verifier: string }>({ pool, table, timeout: 300 });
		await store.set('state-1', { verifier: 'v' });
		const row = await holdRow(table, 'state-1');
		try {
			expect(await store.take('state-1').catch((err: unknown) => err)).toBeInstanceOf(StoreUnavailableError);
			expect(await until(() => checkedOut() === 0, 8_000)).toBe(true);
			expect(await until(() => proxy.events.some((event) => event.type === 'closed'), 3_000)).toBe(true);
			// a pooler forwards a cancel only for an open client connection: the cancel comes first
			const first = proxy.events[0];
			expect(first?.type).toBe('cancel');
			const closedAt = proxy.events.findIndex((event) => event.type === 'closed');
			expect(proxy.events[closedAt]).toEqual({ type: 'closed', pid: first?.pid });
			expect(proxy.events.slice(0, closedAt).every((event) => event.type === 'cancel')).toBe(true);
			await row.commit();
			expect(await store.take('state-1')).toEqual({ verifier: 'v' });
		} finally {
			await row.release();
		}
	});

	it('leaves no socket or timer behind once the statement given up on is cancelled', {
		timeout: 20_000,
	}, async () => {
		const table = uniqueName('handles');
		const store = await tightStore<string, { tokens: string }>({ pool, table, timeout: 300 });
		await store.set('did:plc:a', { tokens: 'T0' });
		const row = await holdRow(table, 'did:plc:a');
		try {
			const made = trackResources();
			try {
				expect(await store.set('did:plc:a', { tokens: 'T1' }).catch((err: unknown) => err)).toBeInstanceOf(
					StoreUnavailableError,
				);
				expect(await until(() => checkedOut() === 0, 8_000)).toBe(true);
				// each cancel's connection closes once the server has read the request
				await until(() => made.live().length === 0, 3_000);
			} finally {
				made.stop();
			}
			// the hook saw them come (the cancels' sockets, the store's timers), and all go
			expect(made.seen()).toEqual(['TCPWRAP', 'Timeout']);
			expect(made.live()).toEqual([]);
		} finally {
			await row.release();
		}
	});
});

describe('cancelUntilSettled', () => {
	/** a server that reads a cancel request and closes its connection, as PostgreSQL does. */
	const cancelServer = async () => {
		const requests: number[] = [];
		const sockets: Socket[] = [];
		const server = createServer((socket) => {
			sockets.push(socket);
			socket.on('error', () => {});
			socket.on('data', (chunk: Buffer) => {
				if (chunk.length >= 16 && chunk.readInt32BE(4) === CANCEL_REQUEST_CODE) {
					requests.push(chunk.readInt32BE(8));
					socket.end();
				}
			});
		});
		server.listen(0, '127.0.0.1');
		await once(server, 'listening');
		const { port } = server.address() as { port: number };
		const client = Object.assign(new pg.Client({ host: '127.0.0.1', port }), {
			processID: 4242,
			secretKey: 987654321,
		});
		return {
			client,
			config: { host: '127.0.0.1', port },
			requests,
			allClosed: () => sockets.every((socket) => socket.closed),
			close: async () => {
				for (const socket of sockets) socket.destroy();
				await new Promise((resolve) => server.close(resolve));
			},
		};
	};

	it('sends the cancel again until the statement settles, and no more after', async () => {
		const server = await cancelServer();
		try {
			let settle!: () => void;
			const statement = new Promise<void>((_, reject) => {
				settle = () => reject(new Error('canceling statement due to user request'));
			});
			const done = cancelUntilSettled(server.client, server.config, statement, {
				waitMs: 10_000,
				everyMs: 50,
			});
			expect(await until(() => server.requests.length >= 3, 5_000)).toBe(true);
			settle();
			await expect(done).resolves.toBeUndefined();
			// a cancel sent just before may still be on its way: count once it is in
			await sleep(100);
			expect(await until(server.allClosed, 3_000)).toBe(true);
			const sent = server.requests.length;
			await sleep(300);
			expect(server.requests.length).toBe(sent);
			expect(server.requests.every((pid) => pid === 4242)).toBe(true);
			expect(await until(server.allClosed, 3_000)).toBe(true);
		} finally {
			await server.close();
		}
	});

	it('gives up after waitMs on a statement that never settles', async () => {
		const server = await cancelServer();
		try {
			const never = new Promise<void>(() => {});
			await expect(
				cancelUntilSettled(server.client, server.config, never, { waitMs: 300, everyMs: 50 }),
			).resolves.toBeUndefined();
			await sleep(100);
			expect(await until(server.allClosed, 3_000)).toBe(true);
			expect(server.requests.length).toBeGreaterThanOrEqual(1);
			const sent = server.requests.length;
			await sleep(300);
			expect(server.requests.length).toBe(sent);
			expect(await until(server.allClosed, 3_000)).toBe(true);
		} finally {
			await server.close();
		}
	});

	it('resolves at once for a client it cannot cancel', async () => {
		const never = new Promise<void>(() => {});
		await expect(
			cancelUntilSettled({ query: () => {} }, { host: '127.0.0.1' }, never),
		).resolves.toBeUndefined();
	});
});
