import { readFileSync } from 'node:fs';
import { createTestTls, type TestTls } from '@atcute-oauth/test-oauth-server';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { createRedisLock, LockUnavailableError } from '../src/index.ts';
import {
	connect,
	freePort,
	RedisStore,
	type SpawnedRedis,
	StoreUnavailableError,
	spawnRedisServer,
	uniquePrefix,
} from './support/siblings.ts';

// a server of our own, even in CI: it listens with TLS (a throw-away CA), besides its plain port
describe('the Redis store and lock over TLS (rediss://)', () => {
	let tls: TestTls;
	let server: SpawnedRedis;
	let url: string;
	const clients: Redis[] = [];

	beforeAll(async () => {
		tls = await createTestTls(['127.0.0.1']);
		const tlsPort = await freePort();
		server = await spawnRedisServer({
			args: [
				'--tls-port',
				String(tlsPort),
				'--tls-cert-file',
				tls.certPath,
				'--tls-key-file',
				tls.keyPath,
				'--tls-ca-cert-file',
				tls.caPath,
				'--tls-auth-clients',
				'no',
			],
		});
		url = `rediss://127.0.0.1:${tlsPort}`;
	});
	afterEach(() => {
		for (const redis of clients.splice(0)) redis.disconnect();
	});
	afterAll(async () => {
		await server?.close();
		await tls?.remove();
	});

	it('stores, takes and locks over a trusted TLS connection', async () => {
		const redis = connect(url, { tls: { ca: readFileSync(tls.caPath) } });
		clients.push(redis);
		const store = new RedisStore<string, { a: number }>({ redis, prefix: uniquePrefix('tls') });
		await store.set('did:plc:a', { a: 1 });
		expect(await store.get('did:plc:a')).toEqual({ a: 1 });
		expect(await store.take('did:plc:a')).toEqual({ a: 1 });
		await store.clear();
		const lock = createRedisLock({ redis, prefix: uniquePrefix('tls-lock') });
		expect(await lock('oauth-session-did:plc:a', async () => 'held')).toBe('held');
	});

	// ioredis reconnects for ever on a certificate it does not trust: "not connected" alone would
	// not tell a missing CA from a server that is down
	it('names the certificate error when the CA is not trusted, still transient', async () => {
		const redis = connect(url);
		clients.push(redis);
		const store = new RedisStore({ redis, prefix: uniquePrefix('tls'), timeout: 1_500 });
		const failure = await store.get('did:plc:a').catch((err: unknown) => err);
		expect(failure).toBeInstanceOf(StoreUnavailableError);
		expect((failure as Error).message).toMatch(/last connection attempt failed: .*certificate/);

		const lock = createRedisLock({ redis, prefix: uniquePrefix('tls-lock'), waitMs: 0, timeout: 1_500 });
		const refused = await lock('oauth-session-did:plc:a', async () => 'ran').catch((err: unknown) => err);
		expect(refused).toBeInstanceOf(LockUnavailableError);
		expect(refused).toMatchObject({ transient: true });
		expect((refused as Error).message).toMatch(/certificate/);
	});
});
