import { type BlackholeProxy, startBlackholeProxy } from '@atcute-oauth/internal/test-utils/blackhole-proxy';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { StoreUnavailableError } from './errors.ts';
import { PostgresStore } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase, testPool, uniqueName } from './test-utils/postgres-server.ts';
import { sharedPostgresUrl } from './test-utils/shared-server.ts';
import { tightStore } from './test-utils/tight-store.ts';

// a network path that goes silent (a NAT or firewall dropping the connection, a failover whose
// old address stops answering): no FIN, no RST, the socket stays "established" for many minutes
const APP = 'atcute-blackhole-test';

/** resolves once no backend of the proxied pool is left: what it was sent has run by then. */
const backendsGone = async (pool: pg.Pool): Promise<void> => {
	for (;;) {
		const { rows } = await pool.query<{ n: number }>(
			'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
			[APP],
		);
		if (rows[0]?.n === 0) return;
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
};

describe('PostgresStore over a connection whose network went silent', () => {
	let database: TestDatabase;
	let direct: pg.Pool;
	let proxy: BlackholeProxy;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'blackhole');
		direct = testPool(database.url);
		proxy = await startBlackholeProxy(Number(new URL(database.url).port || 5432));
	});
	afterAll(async () => {
		await direct?.end();
		await proxy?.close();
		await database?.drop();
	});

	const viaProxy = (): pg.Pool => {
		const url = new URL(database.url);
		url.hostname = proxy.host;
		url.port = String(proxy.port);
		return testPool(url.toString(), { max: 1, application_name: APP });
	};

	it('never lets a write it reported as failed land after a newer one once the network is back', {
		timeout: 20_000,
	}, async () => {
		const table = uniqueName('late_write');
		const pool = viaProxy();
		try {
			const store = await tightStore<string, string>({ pool, table, timeout: 500 });
			const other = new PostgresStore<string, string>({ pool: direct, table });
			await store.set('session', 'refresh token 1');
			proxy.blackhole();
			const removed = new Promise<void>((resolve) => pool.once('remove', () => resolve()));
			const failed = await store.set('session', 'refresh token 2').catch((err: unknown) => err);
			expect(failed).toBeInstanceOf(StoreUnavailableError);
			expect((failed as StoreUnavailableError).transient).toBe(true);
			// another process, on a path that works, writes what came after
			await other.set('session', 'refresh token 3');
			// the store is done with the connection it gave up on; then the path comes back
			await removed;
			await proxy.restore();
			// the old backend ends once it hears of the connection again: anything held ran before
			await backendsGone(direct);

			expect(await other.get('session')).toBe('refresh token 3');
			expect(await store.get('session')).toBe('refresh token 3');
		} finally {
			await proxy.restore();
			await pool.end();
		}
	});
});
