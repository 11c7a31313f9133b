import { LockUnavailableError } from '@atcute/oauth-client';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';

import { freePort } from '../../oauth-store-redis/src/test-utils/redis-server.ts';
import { createRedisLock } from './create-redis-lock.ts';

// ioredis 5 leaves a client that is closed while it waits to reconnect in status `reconnecting`
// for good (its retry timer cleared, no `end` emitted; ioredis 6 ends it): the README's "client
// closed for good" (`quit()` or `disconnect()` was called) must hold there too, or an acquisition
// waits out its whole timeout at a shutdown during an outage
describe('createRedisLock on an ioredis 5 client closed while Redis is away', () => {
	const clients: Redis[] = [];
	afterEach(() => {
		for (const redis of clients.splice(0)) redis.disconnect();
	});

	/** a client of a port nobody listens on, once it waits to reconnect. */
	const reconnectingClient = async (): Promise<Redis> => {
		const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, {
			autoResendUnfulfilledCommands: false,
		});
		redis.on('error', () => {});
		clients.push(redis);
		// not events.once, which rejects on the 'error' the refused connection emits
		await new Promise((resolve) => redis.once('reconnecting', resolve));
		return redis;
	};

	for (const how of ['quit', 'disconnect'] as const) {
		it(`refuses at once, not transient, after ${how}(), and runs nothing`, async () => {
			const redis = await reconnectingClient();
			// a timeout no test waits for: only a failure found at once passes
			const lock = createRedisLock({ redis, timeout: 60_000 });
			if (how === 'quit') await redis.quit();
			else redis.disconnect();
			let ran = false;
			const outcome = await lock('refresh:did:plc:a', async () => {
				ran = true;
			}).catch((err: unknown) => err);
			expect(outcome).toBeInstanceOf(LockUnavailableError);
			expect(outcome).toMatchObject({ transient: false });
			expect(ran).toBe(false);
		}, 20_000);
	}

	it('fails an acquisition waiting for a connection once the client is closed', async () => {
		const redis = await reconnectingClient();
		const lock = createRedisLock({ redis, timeout: 60_000 });
		const pending = lock('refresh:did:plc:a', async () => {}).catch((err: unknown) => err);
		redis.disconnect();
		const outcome = await pending;
		expect(outcome).toBeInstanceOf(LockUnavailableError);
		expect(outcome).toMatchObject({ transient: false });
	}, 20_000);
});
