import { once } from 'node:events';
import type { Socket } from 'node:net';
import { inspect } from 'node:util';

import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { RedisStoreError, StoreUnavailableError } from './errors.ts';
import { RedisStore } from './redis-store.ts';
import {
	connect,
	IOREDIS_MAJORS,
	type SpawnedRedis,
	spawnRedisServer,
	uniquePrefix,
} from './test-utils/redis-server.ts';

/** a session-shaped value whose refresh token must never show up in an error. */
const SECRET = 'secret-refresh-token-5f1c4a3e';
const session = { tokenSet: { sub: 'did:plc:a', refresh_token: SECRET, access_token: 'secret-at' } };

// fault tests always run on a server of their own, even in CI: they stop, freeze and restart it
describe('RedisStore when Redis fails', () => {
	let server: SpawnedRedis;
	const clients: Redis[] = [];
	const client = (options?: Parameters<typeof connect>[1]): Redis => {
		const redis = connect(server.url, options);
		clients.push(redis);
		return redis;
	};

	beforeAll(async () => {
		server = await spawnRedisServer({ persistent: true });
	});
	afterEach(async () => {
		// a test that failed half-way must not leave the server stopped or frozen for the next
		if (server.pid !== undefined) process.kill(server.pid, 'SIGCONT');
		await server.start().catch(() => {});
		for (const redis of clients.splice(0)) redis.disconnect();
	});
	// optional: when the start failed there is nothing to stop, and no TypeError on top of that failure
	afterAll(() => server?.close());

	it('fails every operation with a StoreUnavailableError while the server is down, then recovers with the data kept', async () => {
		const redis = client();
		const prefix = uniquePrefix('down');
		const store = new RedisStore({ redis, prefix, timeout: 500 });
		await store.set('did:plc:a', session);

		await server.stop();
		const operations = {
			get: () => store.get('did:plc:a'),
			set: () => store.set('did:plc:a', { other: true }),
			delete: () => store.delete('did:plc:a'),
			take: () => store.take('did:plc:a'),
			clear: () => store.clear(),
		};
		for (const [operation, run] of Object.entries(operations)) {
			// a failed read must never look like "no session"
			const outcome = await run().then(
				(value) => ({ resolved: value }),
				(err: unknown) => err,
			);
			expect(outcome).toBeInstanceOf(StoreUnavailableError);
			expect(outcome).toMatchObject({ name: 'StoreUnavailableError', operation, transient: true });
		}

		await server.start();
		// ioredis reconnects on its own (its default backoff waits up to 2 s between attempts)
		await expect
			.poll(() => store.get('did:plc:a').catch((err: unknown) => err), { timeout: 10_000, interval: 100 })
			.toEqual(session);
		await store.set('did:plc:b', { n: 1 });
		expect(await store.take('did:plc:b')).toEqual({ n: 1 });
		await store.clear();
	});

	it('fails with a StoreUnavailableError when the server is down before the client ever connected', async () => {
		await server.stop();
		const store = new RedisStore({ redis: client(), prefix: uniquePrefix('never'), timeout: 300 });
		await expect(store.get('did:plc:a')).rejects.toMatchObject({
			name: 'StoreUnavailableError',
			message: expect.stringMatching(/not connected within 300 ms/),
		});
	});

	it('gives up on a server that accepted the command but does not answer', async () => {
		const redis = client();
		const store = new RedisStore({ redis, prefix: uniquePrefix('frozen'), timeout: 300 });
		await store.set('a', 1);
		// a frozen server: the connection stays up, the command is sent, no answer comes
		process.kill(server.pid!, 'SIGSTOP');
		try {
			const error = await store.get('a').catch((err: unknown) => err);
			expect(error).toBeInstanceOf(StoreUnavailableError);
			expect((error as Error).message).toMatch(/did not answer within 300 ms/);
		} finally {
			process.kill(server.pid!, 'SIGCONT');
		}
		expect(await store.get('a')).toBe(1);
		await store.clear();
	});

	/** each operation of `store`, by name. */
	const operationsOf = (store: RedisStore) => ({
		get: () => store.get('did:plc:a'),
		set: () => store.set('did:plc:a', session),
		delete: () => store.delete('did:plc:a'),
		take: () => store.take('did:plc:a'),
		clear: () => store.clear(),
	});
	const outcomeOf = (pending: Promise<unknown>): Promise<unknown> =>
		pending.then(
			(value) => ({ resolved: value }),
			(err: unknown) => err,
		);

	for (const [major, connectWith] of IOREDIS_MAJORS) {
		for (const how of ['quit', 'disconnect'] as const) {
			it(`fails every operation at once, not transient, on a client closed for good with ${how}() (${major})`, async () => {
				const redis = connectWith(server.url);
				clients.push(redis);
				const store = new RedisStore({ redis, prefix: uniquePrefix(how) });
				await store.set('did:plc:a', session);
				if (how === 'quit') await redis.quit();
				else redis.disconnect();
				for (const [operation, run] of Object.entries(operationsOf(store))) {
					const started = performance.now();
					const outcome = await outcomeOf(run());
					// a retry loop that follows `transient` must stop: this client never sends again
					expect(outcome).toBeInstanceOf(RedisStoreError);
					expect(outcome).toMatchObject({
						name: 'RedisStoreError',
						code: 'closed',
						operation,
						transient: false,
						message: expect.stringMatching(/the Redis connection was closed for good/),
					});
					expect(performance.now() - started).toBeLessThan(1000);
				}
			});
		}
	}

	it('fails, not transient, once ioredis gave up reconnecting; a client still reconnecting stays transient', async () => {
		const givingUp = client({ retryStrategy: () => null });
		const reconnecting = client();
		const prefix = uniquePrefix('gave-up');
		const closed = new RedisStore({ redis: givingUp, prefix, timeout: 300 });
		const away = new RedisStore({ redis: reconnecting, prefix, timeout: 300 });
		await closed.set('did:plc:a', session);
		await away.get('did:plc:a');

		const ended = once(givingUp, 'end');
		await server.stop();
		await ended;
		for (const [operation, run] of Object.entries(operationsOf(closed))) {
			expect(await outcomeOf(run())).toMatchObject({
				name: 'RedisStoreError',
				code: 'closed',
				operation,
				transient: false,
			});
		}
		for (const [operation, run] of Object.entries(operationsOf(away))) {
			expect(await outcomeOf(run())).toMatchObject({
				name: 'StoreUnavailableError',
				operation,
				transient: true,
			});
		}
	});

	it('fails, not transient, when ioredis gives up reconnecting while an operation waits for a connection', async () => {
		// one attempt to reconnect, then none
		const redis = client({ retryStrategy: (attempt) => (attempt === 1 ? 50 : null) });
		const store = new RedisStore({ redis, prefix: uniquePrefix('wait-gave-up'), timeout: 10_000 });
		await store.get('did:plc:a');
		await server.stop();
		await expect.poll(() => redis.status).toBe('reconnecting');
		const started = performance.now();
		const outcome = await outcomeOf(store.get('did:plc:a'));
		expect(outcome).toMatchObject({
			name: 'RedisStoreError',
			code: 'closed',
			transient: false,
			message: expect.stringMatching(/closed for good/),
		});
		// told when ioredis gave up, not at the time limit
		expect(performance.now() - started).toBeLessThan(5_000);
	});

	it('fails, not transient, a command whose connection dropped before its answer when ioredis does not reconnect', async () => {
		const redis = client({ retryStrategy: () => null });
		const store = new RedisStore({ redis, prefix: uniquePrefix('pending'), timeout: 5_000 });
		await store.set('did:plc:a', session);
		// the GET is sent at once; the connection drops before any answer can be read
		const pending = outcomeOf(store.get('did:plc:a'));
		(redis.stream as Socket).destroy();
		expect(await pending).toMatchObject({
			name: 'RedisStoreError',
			code: 'closed',
			operation: 'get',
			transient: false,
			message: expect.stringMatching(/closed for good before the command was answered/),
		});
	});

	it('keeps the value out of the error when Redis refuses a write (ioredis attaches it)', async () => {
		const redis = client();
		const prefix = uniquePrefix('oom');
		const store = new RedisStore({ redis, prefix });
		await redis.config('SET', 'maxmemory', '1');
		try {
			// what ioredis itself throws carries the command's arguments, the session included
			const raw = await redis.set(`${prefix}raw`, JSON.stringify(session)).catch((err: unknown) => err);
			expect(inspect(raw, { depth: null, showHidden: true })).toContain(SECRET);

			const error = await store.set('did:plc:a', session).catch((err: unknown) => err);
			// out of memory may pass: transient
			expect(error).toBeInstanceOf(StoreUnavailableError);
			// Redis answered: a refusal that may pass, not "did not answer"
			expect((error as Error).message).toMatch(/Redis refused for now: OOM/);
			expect(inspect(error, { depth: null, showHidden: true })).not.toContain(SECRET);
			expect(JSON.stringify(error)).not.toContain(SECRET);
		} finally {
			await redis.config('SET', 'maxmemory', '0');
		}
	});
});
