// a statement the store gave up on is cancelled on the server: a backend waiting on a row lock does
// not notice its client is gone, and would otherwise write after the caller was told it failed
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { StoreUnavailableError } from './errors.ts';
import { cancelStatement } from './internal/cancel-statement.ts';
import { queryWithin } from './internal/query-within.ts';
import { PostgresStore } from './postgres-store.ts';
import type { PgPoolClient } from './queryable.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';
import { tightStore } from './test-utils/tight-store.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** PostgreSQL's CancelRequest code (1234 << 16 | 5678). */
const CANCEL_REQUEST_CODE = 80877102;

describe('PostgresStore: a statement given up on is cancelled', () => {
	let database: TestDatabase;
	let pool: pg.Pool;
	let other: pg.Pool;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'cancel');
		pool = testPool(database.url);
		other = testPool(database.url);
	});
	afterAll(async () => {
		await pool?.end();
		await other?.end();
		await database?.drop();
	});

	/** the backends (other than `except`) running or last running a statement on `table`, and their state. */
	const backendsOn = async (table: string, except: number) =>
		(
			await other.query<{ pid: number; state: string | null; wait_event_type: string | null }>(
				`SELECT pid, state, wait_event_type FROM pg_stat_activity
				 WHERE datname = current_database() AND pid <> $1 AND pid <> pg_backend_pid()
				   AND query LIKE 'INSERT INTO %' AND position($2 in query) > 0`,
				[except, table],
			)
		).rows;

	it('never writes what it reported as failed once the row lock it waited on is released', async () => {
		const table = uniqueName('sessions');
		const store = await tightStore<string, { tokens: string }>({ pool, table, timeout: 300 });
		await store.set('did:plc:a', { tokens: 'T0' });

		// another transaction holds the row: the store's upsert waits on its lock
		const holder = await other.connect();
		const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
		let holding = true;
		try {
			await holder.query('BEGIN');
			await holder.query(`SELECT 1 FROM "${table}" WHERE key = $1 FOR UPDATE`, ['did:plc:a']);

			const failed = await store.set('did:plc:a', { tokens: 'T1 (stale)' }).catch((err: unknown) => err);
			expect(failed).toBeInstanceOf(StoreUnavailableError);

			// the store's backend stops waiting while the row is still held: cancelled, then gone
			let waiting = await backendsOn(table, holderPid);
			for (let i = 0; i < 60 && waiting.some((row) => row.state === 'active'); i++) {
				await sleep(50);
				waiting = await backendsOn(table, holderPid);
			}
			const stillWaiting = waiting.filter((row) => row.state === 'active');

			await holder.query('COMMIT');
			holding = false;
			// a statement still waiting would write now: give it the time to
			await sleep(300);
			expect(await store.get('did:plc:a')).toEqual({ tokens: 'T0' });
			expect(stillWaiting).toEqual([]);
			expect((await backendsOn(table, holderPid)).filter((row) => row.state === 'active')).toEqual([]);
		} finally {
			if (holding) await holder.query('ROLLBACK').catch(() => {});
			holder.release();
		}
	});

	it('cancels a statement whose caller aborted, and leaves the pool usable', async () => {
		const table = uniqueName('states');
		const store = new PostgresStore<string, { verifier: string }>({ pool, table, timeout: 5_000 });
		await store.set('state-1', { verifier: 'v' });
		const holder = await other.connect();
		let holding = true;
		try {
			await holder.query('BEGIN');
			await holder.query(`SELECT 1 FROM "${table}" WHERE key = $1 FOR UPDATE`, ['state-1']);
			const signal = AbortSignal.timeout(200);
			// get takes a signal; the write path is the same queryWithin, so a raw DELETE stands for it
			const error = await queryWithin(
				pool,
				{ text: `DELETE FROM "${table}" WHERE key = $1`, values: ['state-1'] },
				{ timeout: 5_000, signal },
			).catch((err: unknown) => err);
			expect(error).toBe(signal.reason);
			await sleep(500);
			await holder.query('COMMIT');
			holding = false;
			// a delete still waiting would take the state now: give it the time to
			await sleep(300);
			expect(await store.take('state-1')).toEqual({ verifier: 'v' });
		} finally {
			if (holding) await holder.query('ROLLBACK').catch(() => {});
			holder.release();
		}
	});

	it('sends a CancelRequest naming the backend, and closes it after waitMs when the server never answers', async () => {
		// a server that takes the connection and the request, and then neither answers nor closes
		const received: Buffer[] = [];
		const sockets: Socket[] = [];
		const silent = createServer((socket) => {
			sockets.push(socket);
			socket.on('data', (chunk: Buffer) => received.push(chunk));
			socket.on('error', () => {});
		});
		silent.listen(0, '127.0.0.1');
		await once(silent, 'listening');
		const { port } = silent.address() as { port: number };
		try {
			const client = new pg.Client({ host: '127.0.0.1', port });
			Object.assign(client, { processID: 4242, secretKey: 987654321 });
			const started = performance.now();
			await cancelStatement(client, { host: '127.0.0.1', port }, 300);
			const took = performance.now() - started;
			expect(took).toBeGreaterThanOrEqual(250);
			expect(took).toBeLessThan(2_000);

			const request = Buffer.concat(received);
			expect(request.length).toBe(16);
			expect(request.readInt32BE(0)).toBe(16);
			expect(request.readInt32BE(4)).toBe(CANCEL_REQUEST_CODE);
			expect(request.readInt32BE(8)).toBe(4242);
			expect(request.readInt32BE(12)).toBe(987654321);
			// the cancel's connection was closed on our side: nothing is left open
			expect(sockets).toHaveLength(1);
			if (!sockets[0]!.closed) await once(sockets[0]!, 'close');
		} finally {
			for (const socket of sockets) socket.destroy();
			silent.close();
		}
	});

	it('settles, with no crash, when the cancel cannot connect at all', async () => {
		// a port nobody listens on: refused at once
		const probe = createServer();
		probe.listen(0, '127.0.0.1');
		await once(probe, 'listening');
		const { port } = probe.address() as { port: number };
		await new Promise((resolve) => probe.close(resolve));
		const client = Object.assign(new pg.Client({ host: '127.0.0.1', port }), {
			processID: 1,
			secretKey: 2,
		});
		await expect(cancelStatement(client, { host: '127.0.0.1', port }, 5_000)).resolves.toBeUndefined();
	});

	it('leaves a look-alike client or pool alone', async () => {
		// no process id or secret key (pg-native, a wrapper): nothing to send
		await expect(cancelStatement({ query: () => {} }, { host: '127.0.0.1' })).resolves.toBeUndefined();
		// a pool without options: nothing to connect with
		const client = Object.assign(new pg.Client(), { processID: 1, secretKey: 2 });
		await expect(cancelStatement(client, undefined)).resolves.toBeUndefined();

		// a duck-typed pool whose connection never answers: given up on, closed, and no cancel tried
		const released: unknown[] = [];
		const lookAlike = {
			totalCount: 1,
			query: () => Promise.reject(new Error('the pool path checks a connection out')),
			connect: async (): Promise<PgPoolClient> => ({
				query: () => new Promise(() => {}),
				release: (destroy?: Error | boolean) => void released.push(destroy),
				on: () => lookAlike,
				off: () => lookAlike,
			}),
		};
		const error = await queryWithin(lookAlike, { text: 'SELECT 1' }, { timeout: 50 }).catch(
			(err: unknown) => err,
		);
		expect(error).toMatchObject({ transient: true });
		expect(released).toEqual([true]);
	});
});
