// a key rotation across real processes, on a real SQLite file and a real Redis: one process
// writes with key A; another, deployed with [B, A], reads everything, rewrites under B; then A
// is retired and a third process reads with B alone. the children run the built packages.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	connect,
	removeKeys,
	uniquePrefix,
	useTestRedis,
} from '../../oauth-store-redis/src/test-utils/redis-server.ts';
import { openRawDatabase } from '../../oauth-store-sqlite/src/internal/test-raw-database.ts';
import { generateStoreKey } from '../src/generate-store-key.ts';
import { run } from './run-node.ts';

const CHILD = fileURLToPath(new URL('./fixtures/rotation-child.mjs', import.meta.url));
const DIDS = ['did:plc:first', 'did:plc:second', 'did:plc:third'];
const A = generateStoreKey('key-a');
const B = generateStoreKey('key-b');
const ring = (...keys: { id: string; secret: string }[]) =>
	keys.map(({ id, secret }) => `${id}:${secret}`).join(',');

/** runs one step in a child process with `keys` in OAUTH_STORE_KEYS; its JSON output. */
const step = async (where: string, command: string, keys: string) => {
	const { code, stdout, stderr } = await run(process.execPath, [CHILD, where, command, ...DIDS], {
		OAUTH_STORE_KEYS: keys,
	});
	if (code !== 0) throw new Error(`${command} exited with ${code}: ${stderr}`);
	return JSON.parse(stdout);
};

/** a store location the children open, and a way to read its rows raw. */
interface Place {
	where: string;
	raw: (did: string) => Promise<string | undefined>;
}

let redisServer: Awaited<ReturnType<typeof useTestRedis>>;
let redis: Redis;
let folder: string;
const prefix = uniquePrefix('rotation');
beforeAll(async () => {
	redisServer = await useTestRedis();
	redis = connect(redisServer.url);
	folder = mkdtempSync(join(tmpdir(), 'oauth-store-encrypted-rotation-'));
});
afterAll(async () => {
	await removeKeys(redis, prefix);
	await redis.quit();
	await redisServer.close();
	rmSync(folder, { recursive: true, force: true });
});

const places: Record<string, () => Place> = {
	'SqliteStore (file)': () => {
		const path = join(folder, 'oauth.db');
		return {
			where: `sqlite:${path}`,
			raw: async (did) => {
				const db = openRawDatabase(path, { readonly: true });
				try {
					return db.prepare('SELECT value FROM oauth_sessions WHERE key = ?').get(did)?.value as
						| string
						| undefined;
				} finally {
					db.close();
				}
			},
		};
	},
	RedisStore: () => ({
		where: `redis:${redisServer.url}|${prefix}`,
		raw: async (did) => (await redis.get(prefix + did)) ?? undefined,
	}),
};

describe.each(Object.keys(places))('key rotation across processes over %s', (name) => {
	// four node processes, one after another
	it('writes under A, rewraps under B in another process, then reads with B alone', {
		timeout: 60_000,
	}, async () => {
		const place = places[name]!();
		expect(await step(place.where, 'write', ring(A))).toEqual({ primary: 'key-a' });
		for (const did of DIDS) expect(JSON.parse((await place.raw(did))!).kid).toBe('key-a');

		const rotated = await step(place.where, 'rotate', ring(B, A));
		for (const did of DIDS) expect(rotated.read[did].tokenSet.access_token).toBe(`access-1-of-${did}`);
		// the refreshed account is already under B; the rest wait for the rewrap
		expect(rotated.before.byKeyId).toEqual({ 'key-a': 2, 'key-b': 1 });
		expect(rotated.rewrap).toMatchObject({ checked: 3, rewrapped: 2, failed: [] });
		expect(rotated.after.byKeyId).toEqual({ 'key-b': 3 });
		for (const did of DIDS) {
			const raw = (await place.raw(did))!;
			expect(JSON.parse(raw).kid).toBe('key-b');
			expect(raw).not.toContain('refresh-of-');
			expect(raw).not.toContain('dpop-d-of-');
		}

		// A retired: B alone reads everything, the refresh included
		const retired = await step(place.where, 'read', ring(B));
		expect(retired.read[DIDS[0]!].tokenSet.access_token).toBe(`access-2-of-${DIDS[0]}`);
		for (const did of DIDS.slice(1))
			expect(retired.read[did].tokenSet.access_token).toBe(`access-1-of-${did}`);

		// a process still on A alone is told which key it lacks, for which entry, and deletes nothing
		const stale = await step(place.where, 'read', ring(A));
		for (const did of DIDS) {
			expect(stale.read[did].error).toEqual({
				name: 'StoreDecryptionError',
				code: 'unknown_key',
				keyId: 'key-b',
				entryKey: did,
			});
			expect(await place.raw(did)).toBeDefined();
		}
	});
});
