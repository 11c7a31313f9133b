// the stores the scale bench measures, one entry each. to add a store (PostgreSQL, say), add an
// entry: `open(label)` returns the store, a `fill(entries)` that writes many [key, JSON text,
// expiresAt] rows fast (in the store's own format), `bytes()` (what the store holds, for bytes per
// session), whether it has a purge/sweep step to time (`purge`: 'set' times writes, 'purge' times
// `store.purge()`), whether it runs on the caller's thread (`blocking`: every operation is timed
// there too), an optional `settle()` run before timing it, an optional `walState()`, and `close()`.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { compactCodec, MemoryStore } from '@atcute/oauth-node-client';
import { RedisStore } from '@atcute/oauth-store-redis';
import { SqliteStore } from '@atcute/oauth-store-sqlite';
import Database from 'better-sqlite3';

import { threadTimedSync } from './thread-clock.mjs';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const heapUsed = () => {
	gc();
	gc();
	return process.memoryUsage().heapUsed;
};

const fileSize = (path) => {
	let size = 0;
	for (const suffix of ['', '-wal']) {
		try {
			size += statSync(path + suffix).size;
		} catch {}
	}
	return size;
};

/**
 * a MemoryStore with `options`; its bytes are the heap it holds after a full collection. each
 * `set` of the fill is timed on the caller's thread: those over 200 µs are kept in `slowFills`
 * ({ own, start, end }, ms on the performance clock), so a whole-table rehash shows.
 */
const memoryAdapter = (name, options) => ({
	name,
	// the sweep step runs inside set(): timed from outside, around each write
	purge: 'set',
	blocking: true,
	open: async () => {
		const base = heapUsed();
		const store = new MemoryStore(options);
		const slowFills = [];
		return {
			store,
			slowFills,
			fill: (entries) => {
				for (const [key, text, expiresAt] of entries) {
					const value = JSON.parse(text);
					// keyed by the session's own `sub` string, as the client stores it: one copy, not two
					const sub = value.tokenSet?.sub;
					const start = performance.now();
					const { own } = threadTimedSync(() =>
						store.set(sub === key ? sub : key, value, expiresAt ? { expiresAt } : undefined),
					);
					if (own > 200_000) slowFills.push({ own, start, end: performance.now() });
				}
			},
			bytes: async () => heapUsed() - base,
			close: async () => store.clear(),
		};
	},
});

/**
 * every adapter; `context` has `folder` (a temp dir), `redis` (an ioredis client) and `postgres`
 * (`{ url, pg, PostgresStore }`: a loopback server started by the bench).
 */
export const storeAdapters = (context) => [
	memoryAdapter('MemoryStore', {}),
	{
		name: 'SqliteStore (file, WAL)',
		// purge steps run on their own turn: timed around store.purge(), one bounded step
		purge: 'purge',
		blocking: true,
		open: async (label) => {
			const path = join(context.folder, `${label}.db`);
			// BENCH_CHECKPOINT_INTERVAL=0 compares SQLite's own checkpoints on the caller's thread
			const checkpointInterval = process.env.BENCH_CHECKPOINT_INTERVAL;
			const store = new SqliteStore({
				path,
				table: 'oauth_sessions',
				checkpointInterval: checkpointInterval === undefined ? undefined : Number(checkpointInterval),
			});
			// the fill writes rows as the store does (JSON text), many per transaction, for speed
			const raw = new Database(path);
			raw.pragma('busy_timeout = 5000');
			const insert = raw.prepare(
				'INSERT OR REPLACE INTO oauth_sessions (key, value, expires_at) VALUES (?, ?, ?)',
			);
			const insertMany = raw.transaction((entries) => {
				for (const [key, text, expiresAt] of entries) insert.run(key, text, expiresAt ?? null);
			});
			const shm = openSync(`${path}-shm`, 'r');
			const header = Buffer.alloc(100);
			return {
				store,
				fill: (entries) => insertMany(entries),
				// the WAL index header (the -shm file, native byte order): frames in the WAL (mxFrame)
				// and how many of them a checkpoint has copied to the main file (nBackfill)
				walState: () => {
					readSync(shm, header, 0, 100, 0);
					return { frames: header.readUInt32LE(16), backfilled: header.readUInt32LE(96) };
				},
				bytes: async () => {
					raw.pragma('wal_checkpoint(TRUNCATE)');
					return fileSize(path);
				},
				settle: async () => raw.pragma('wal_checkpoint(TRUNCATE)'),
				close: async () => {
					closeSync(shm);
					raw.close();
					store.close();
				},
			};
		},
	},
	{
		name: 'RedisStore (loopback)',
		// Redis expires keys itself, on its own thread: nothing of ours to time
		purge: undefined,
		open: async (label) => {
			const { redis } = context;
			const prefix = `bench:${process.pid}:${label}:`;
			const memory = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))[1]);
			const base = await memory();
			const store = new RedisStore({ redis, prefix });
			return {
				store,
				fill: async (entries) => {
					const pipeline = redis.pipeline();
					for (const [key, text] of entries) pipeline.set(prefix + key, text);
					await pipeline.exec();
				},
				bytes: async () => (await memory()) - base,
				close: async () => store.clear(),
			};
		},
	},
	{
		name: 'PostgresStore (loopback)',
		// purge steps run off the write path: timed around store.purge(), one bounded step
		purge: 'purge',
		open: async (label) => {
			const { url, pg, PostgresStore } = context.postgres;
			const pool = new pg.Pool({ connectionString: url, max: 4 });
			pool.on('error', () => {});
			const table = `bench_scale_${process.pid}_${label}`.replace(/[^a-z0-9_]/gi, '_').toLowerCase();
			const store = new PostgresStore({ pool, table });
			await store.migrate();
			return {
				store,
				// rows as the store writes them (json, expiry as timestamptz), a batch per statement
				fill: async (entries) => {
					// one row per key: a statement may not upsert the same key twice (random keys repeat)
					const rows = [...new Map(entries.map((entry) => [entry[0], entry])).values()];
					for (let i = 0; i < rows.length; i += 1000) {
						const batch = rows.slice(i, i + 1000);
						await pool.query(
							`INSERT INTO "${table}" (key, value, expires_at)
							 SELECT k, v::json, CASE WHEN e IS NULL THEN NULL ELSE to_timestamp(e::float8 / 1000) END
							 FROM unnest($1::text[], $2::text[], $3::float8[]) AS t(k, v, e)
							 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
							[
								batch.map(([key]) => key),
								batch.map(([, text]) => text),
								batch.map(([, , expiresAt]) => expiresAt ?? null),
							],
						);
					}
				},
				bytes: async () => {
					await pool.query(`VACUUM "${table}"`);
					const { rows } = await pool.query('SELECT pg_total_relation_size($1) AS size', [table]);
					return Number(rows[0].size);
				},
				settle: async () => pool.query(`VACUUM ANALYZE "${table}"`),
				close: async () => {
					await pool.query(`DROP TABLE IF EXISTS "${table}"`);
					await pool.end();
				},
			};
		},
	}, // one string per session, a fresh copy per read: less heap, a dearer get
	memoryAdapter('MemoryStore (compact)', { codec: compactCodec }),
];
