import { LockUnavailableError } from '@atcute/oauth-client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPostgresLock } from './create-postgres-lock.ts';
import type { PgPool, PgPoolClient } from './queryable.ts';
import { createTestDatabase, type TestDatabase, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';

/**
 * what the lock sees behind PgBouncer in transaction mode with one server connection: every client
 * connection it checks out is a connection of its own (to the pooler), but each statement runs on
 * whichever server connection is free, here always the same one. the README says the lock needs a
 * direct connection or session pooling; this checks that it says so when it meets one, instead of
 * letting two holders in.
 */
const transactionPooler = (server: pg.Client): PgPool => ({
	connect: async (): Promise<PgPoolClient> => ({
		query: (query) => server.query(query as never) as never,
		release: () => {},
		on: () => undefined,
		off: () => undefined,
	}),
});

describe('createPostgresLock behind a transaction-mode pooler', () => {
	let database: TestDatabase;
	let server: pg.Client;
	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'lock_pooler');
		server = new pg.Client({ connectionString: database.url });
		server.on('error', () => {});
		await server.connect();
	});
	afterAll(async () => {
		await server?.end();
		await database?.drop();
	});

	it('never lets a second holder in while the first holds the name; it refuses, naming the pooler', async () => {
		const lock = createPostgresLock({
			pool: transactionPooler(server),
			prefix: uniqueName('pooler'),
			waitMs: 300,
			onLeaseLost: () => {},
		});
		// the first holds the name until the second has had its answer
		let entered!: () => void;
		const inside = new Promise<void>((resolve) => (entered = resolve));
		let leave!: () => void;
		const gate = new Promise<void>((resolve) => (leave = resolve));
		let running = 0;
		let overlapped = false;
		const first = lock('did:plc:alice', async () => {
			running++;
			entered();
			await gate;
			running--;
		});
		await inside;
		// on the pooler's one server connection, which holds that advisory lock already,
		// pg_try_advisory_lock answers true again (it is re-entrant)
		const error = await lock('did:plc:alice', async () => {
			running++;
			if (running > 1) overlapped = true;
			running--;
		}).then(
			() => undefined,
			(err: unknown) => err,
		);
		leave();
		await first;
		expect(overlapped).toBe(false);
		expect(error).toBeInstanceOf(LockUnavailableError);
		expect((error as Error).message).toMatch(/pooler|session pooling/i);
	});
});
