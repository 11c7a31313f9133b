// the stores side by side: get and set per second, and restore() on each as the session store
// (a session with a fresh token: a store read, the key from the cache, a new session object).
// SQLite on a real file, Redis on a real redis-server and PostgreSQL on a real server, both over
// loopback. run: pnpm bench stores
// scale mode: `pnpm bench stores --scale` (1k and 100k sessions), `--scale=1k,100k,1m` for any list
// (1M takes several minutes and about 8 GB: NODE_OPTIONS=--max-old-space-size=8192)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { MemoryStore, OAuthClient } from '@atcute/oauth-node-client';
import { RedisStore } from '@atcute/oauth-store-redis';
import { SqliteStore } from '@atcute/oauth-store-sqlite';
import { Redis } from 'ioredis';

import { ownFolder, stoppingOnSignal } from './lib/cleanup.mjs';
import { benchEncryptedRestore } from './lib/encrypted-restore.mjs';
import { measureOp } from './lib/measure.mjs';
import { startRedis } from './lib/redis-server.mjs';
import { runStoreScale } from './lib/store-scale.mjs';

const redisServer = await startRedis();
const redis = new Redis(redisServer.url, { autoResendUnfulfilledCommands: false });
// ioredis logs an error event no one listens to; after Ctrl-C its server is gone on purpose
redis.on('error', (error) => {
	if (!stoppingOnSignal()) console.error(`[ioredis] ${error.message}`);
});
const folder = mkdtempSync(join(tmpdir(), 'atcute-oauth-bench-'));
// removed in the finally below, or on Ctrl-C, or at exit after an error (as are the servers)
const removeFolder = ownFolder(folder);
const prefix = `bench:${process.pid}:`;

const parseCount = (text) => {
	const match = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.trim());
	if (!match) throw new TypeError(`--scale takes counts like 1k,100k,1m, got ${JSON.stringify(text)}`);
	return Number(match[1]) * { '': 1, k: 1e3, m: 1e6 }[match[2].toLowerCase()];
};
const scaleArg = process.argv.find((arg) => arg === '--scale' || arg.startsWith('--scale='));
const levels =
	scaleArg === undefined ? undefined : (scaleArg.split('=')[1] ?? '1k,100k').split(',').map(parseCount);

const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
const { subtle } = globalThis.crypto;
const { kty, crv, x, y, d } = await subtle.exportKey(
	'jwk',
	(await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign'])).privateKey,
);
// a realistic session: two tokens, the DPoP key, the granted scope
const session = {
	dpopKey: { kty, crv, x, y, d, alg: 'ES256' },
	// a loopback client's session: no client key to look up
	authMethod: { method: 'none' },
	tokenSet: {
		iss: 'https://bsky.social',
		sub: did,
		aud: 'https://morel.us-east.host.bsky.network',
		scope: 'atproto transition:generic',
		access_token: 'a'.repeat(900),
		refresh_token: 'r'.repeat(900),
		token_type: 'DPoP',
		expires_at: Date.now() + 3600_000,
	},
};

const adapters = [
	['MemoryStore', new MemoryStore()],
	['SqliteStore (file, WAL)', new SqliteStore({ path: join(folder, 'oauth.db'), table: 'oauth_sessions' })],
	['RedisStore (loopback)', new RedisStore({ redis, prefix })],
];

// --- PostgreSQL (@atcute/oauth-store-postgres): a server of its own, see lib/postgres-server.mjs ---
const { startPostgres } = await import('./lib/postgres-server.mjs');
const { PostgresStore } = await import('@atcute/oauth-store-postgres');
const { default: pg } = await import('pg');
const postgresServer = await startPostgres();
const postgresPool = new pg.Pool({ connectionString: postgresServer.url });
postgresPool.on('error', () => {});
const postgresTable = `bench_sessions_${process.pid}`;
adapters.push(['PostgresStore (loopback)', new PostgresStore({ pool: postgresPool, table: postgresTable })]);
const stopPostgres = async () => {
	await postgresPool.query(`DROP TABLE IF EXISTS "${postgresTable}"`);
	await postgresPool.end();
	await postgresServer.stop();
};
// --- end PostgreSQL ---

/** the short default: each store at one session, side by side. */
const sideBySide = async () => {
	const rows = [];
	for (const [name, store] of adapters) {
		await store.set(did, session);
		let n = 0;
		const set = await measureOp(`${name}: set`, () => store.set(`${did}-${n++ % 1000}`, session));
		const get = await measureOp(`${name}: get`, () => store.get(did));

		const oauth = new OAuthClient({
			metadata: { redirect_uris: ['http://127.0.0.1/cb'], scope: 'atproto' },
			stores: { sessions: store, states: new MemoryStore() },
			actorResolver: { resolve: async () => ({}) },
		});
		const restore = await measureOp(`${name}: restore()`, () => oauth.restore(did));
		rows.push({ name, set, get, restore });
	}

	console.log('\nstores side by side (one caller at a time; CPU includes the client side only)');
	console.table(
		Object.fromEntries(
			rows.map(({ name, set, get, restore }) => [
				name,
				{
					'set / s': Math.round(1e9 / set.wallNs),
					'get / s': Math.round(1e9 / get.wallNs),
					'restore() avg': `${(restore.wallNs / 1000).toFixed(2)} µs`,
					'restore() p99': `${(restore.p99Ns / 1000).toFixed(2)} µs`,
					'restore() cpu': `${(restore.cpuNs / 1000).toFixed(2)} µs`,
				},
			]),
		),
	);
};

// the servers are this bench's own: stop them (by pid) and remove the files even when a step fails
try {
	if (levels === undefined) {
		await sideBySide();
		// encryption at rest (issue 11), in a block of its own
		await benchEncryptedRestore({ adapters, did, session });
	} else {
		await runStoreScale({ folder, redis, postgres: { url: postgresServer.url, pg, PostgresStore } }, levels);
	}
} finally {
	for (const [, store] of adapters) await store.close?.();
	const keys = await redis.keys(`${prefix}*`);
	if (keys.length > 0) await redis.del(...keys);
	redis.disconnect();
	await redisServer.stop();
	await stopPostgres();
	removeFolder();
}
