import { fileURLToPath } from 'node:url';

import { exitAfterSigterm } from '@atcute-oauth/internal/test-utils/exit-after-sigterm';

import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';

import { RedisStoreError } from './errors.ts';
import { RedisStore } from './redis-store.ts';
import { connect, freePort } from './test-utils/redis-server.ts';

const CHILD = fileURLToPath(new URL('./test-utils/shutdown-during-outage-child.mjs', import.meta.url));

// ioredis 5 leaves a client that is closed while it waits to reconnect in status `reconnecting`
// for good (its retry timer cleared, no `end` emitted; ioredis 6 ends it): the store must see it
// closed all the same, or each call waits out its whole timeout at a shutdown during an outage
describe('RedisStore on an ioredis 5 client closed while Redis is away', () => {
	const clients: Redis[] = [];
	afterEach(() => {
		for (const redis of clients.splice(0)) redis.disconnect();
	});

	/** a client of a port nobody listens on, once it waits to reconnect. */
	const reconnectingClient = async (): Promise<Redis> => {
		const redis = connect(`redis://127.0.0.1:${await freePort()}`);
		clients.push(redis);
		// not events.once, which rejects on the 'error' the refused connection emits
		await new Promise((resolve) => redis.once('reconnecting', resolve));
		return redis;
	};

	for (const how of ['quit', 'disconnect'] as const) {
		it(`fails every operation at once, not transient, after ${how}()`, async () => {
			const redis = await reconnectingClient();
			// a timeout no test waits for: only a failure found at once passes
			const store = new RedisStore({ redis, prefix: 'closed:', timeout: 60_000 });
			if (how === 'quit') await redis.quit();
			else redis.disconnect();
			for (const run of [
				() => store.get('did:plc:a'),
				() => store.set('did:plc:a', { a: 1 }),
				() => store.delete('did:plc:a'),
				() => store.take('did:plc:a'),
				() => store.clear(),
			]) {
				const outcome = await run().then(
					(value) => ({ resolved: value }),
					(err: unknown) => err,
				);
				expect(outcome).toBeInstanceOf(RedisStoreError);
				expect(outcome).toMatchObject({ code: 'closed', transient: false });
			}
		}, 20_000);
	}

	it('fails an operation waiting for a connection once the client is closed', async () => {
		const redis = await reconnectingClient();
		const store = new RedisStore({ redis, prefix: 'closed:', timeout: 60_000 });
		const pending = store.get('did:plc:a').then(
			(value) => ({ resolved: value }),
			(err: unknown) => err,
		);
		redis.disconnect();
		const outcome = await pending;
		expect(outcome).toBeInstanceOf(RedisStoreError);
		expect(outcome).toMatchObject({ code: 'closed', transient: false });
	}, 20_000);

	it('lets an app that quits its client on SIGTERM during an outage exit by itself', async () => {
		const url = `redis://127.0.0.1:${await freePort()}`;
		// the store's timeout (60 s) is far past the time the process has to exit (10 s)
		const { result, stdout, stderr, lines: read } = await exitAfterSigterm(CHILD, [url, '60000']);
		expect(result, `stdout: ${stdout}\nstderr: ${stderr}`).toBe(0);
		const lines = read();
		expect(lines).toContainEqual({
			type: 'pending',
			outcome: { name: 'RedisStoreError', code: 'closed', transient: false },
		});
		expect(lines).toContainEqual({
			type: 'after',
			outcome: { name: 'RedisStoreError', code: 'closed', transient: false },
		});
	}, 30_000);
});
