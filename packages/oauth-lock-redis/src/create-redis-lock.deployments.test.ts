import { Cluster, type Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import {
	connect,
	type SpawnedRedis,
	spawnRedisServer,
	uniquePrefix,
} from '../../oauth-store-redis/src/test-utils/redis-server.ts';
import { createRedisLock } from './create-redis-lock.ts';
import type { LeaseLostEvent } from './errors.ts';

// servers of our own, even in CI: configured as deployments run them, not as the default
describe('createRedisLock on Redis as deployments run it', () => {
	const servers: SpawnedRedis[] = [];
	const clients: (Redis | Cluster)[] = [];
	const serverWith = async (args: string[]): Promise<SpawnedRedis> => {
		const server = await spawnRedisServer({ args });
		servers.push(server);
		return server;
	};
	const client = (url: string): Redis => {
		const redis = connect(url);
		clients.push(redis);
		return redis;
	};
	afterEach(() => {
		for (const each of clients.splice(0)) each.disconnect();
	});
	afterAll(async () => {
		await Promise.all(servers.splice(0).map((server) => server.close()));
	});

	// a lease is a key with a TTL: an eviction policy may drop it while it is held. the lock cannot
	// prevent that (README: noeviction); the holder must at least be told, and its signal aborted
	it('tells the holder, with its signal aborted, when maxmemory evicts its lease (allkeys-lru) and another process takes the name', async () => {
		const server = await serverWith(['--maxmemory', '4mb', '--maxmemory-policy', 'allkeys-lru']);
		const admin = client(server.url);
		const prefix = uniquePrefix('evicted');
		const lost: LeaseLostEvent[] = [];
		const first = createRedisLock({
			redis: client(server.url),
			prefix,
			leaseMs: 60_000,
			renewMs: 100,
			onLeaseLost: (event) => lost.push(event),
		});
		const second = createRedisLock({ redis: client(server.url), prefix, waitMs: 0 });
		const name = 'oauth-session-did:plc:a';
		const filler = 'x'.repeat(100_000);

		const holders: string[] = [];
		await first(name, async (signal) => {
			// memory pressure until Redis has evicted the lease (the oldest key it has)
			for (let i = 0; (await admin.exists(prefix + name)) === 1; i++) {
				expect(i).toBeLessThan(2_000);
				await admin.set(`${prefix}filler:${i}`, filler);
			}
			await second(name, async () => {
				holders.push('second, while the first still holds');
			});
			await expect.poll(() => signal?.aborted, { timeout: 4_000 }).toBe(true);
		});

		expect(holders).toEqual(['second, while the first still holds']);
		expect(lost).toMatchObject([{ name, reason: 'expired' }]);
	});

	it('works on a Cluster client: one holder at a time per name, with names spread over three masters', async () => {
		const nodes = await Promise.all([0, 1, 2].map(() => serverWith(['--cluster-enabled', 'yes'])));
		const admins = nodes.map((node) => client(node.url));
		// three masters, a third of the slots each, introduced to one another
		await Promise.all(
			admins.map((admin, i) =>
				admin.call('CLUSTER', 'ADDSLOTSRANGE', String(i * 5462), String(Math.min(16383, i * 5462 + 5461))),
			),
		);
		for (const node of nodes.slice(1))
			await admins[0]!.call('CLUSTER', 'MEET', '127.0.0.1', String(node.port));
		await expect
			.poll(
				async () =>
					(await Promise.all(admins.map((admin) => admin.call('CLUSTER', 'INFO')))).every((info) =>
						String(info).includes('cluster_state:ok'),
					),
				{ timeout: 20_000 },
			)
			.toBe(true);

		const cluster = new Cluster([{ host: '127.0.0.1', port: nodes[0]!.port }]);
		cluster.on('error', () => {});
		clients.push(cluster);
		const lost: LeaseLostEvent[] = [];
		const lock = createRedisLock({
			redis: cluster as unknown as Redis,
			prefix: uniquePrefix('cluster'),
			leaseMs: 1_000,
			onLeaseLost: (event) => lost.push(event),
		});
		const names = ['oauth-session-did:plc:a', 'oauth-session-did:plc:b', 'oauth-session-did:plc:c', 'x'];
		const inside = new Map<string, number>();
		let overlaps = 0;
		await Promise.all(
			names.flatMap((name) =>
				[1, 2, 3].map(() =>
					lock(name, async () => {
						inside.set(name, (inside.get(name) ?? 0) + 1);
						if (inside.get(name)! > 1) overlaps++;
						await new Promise((resolve) => setTimeout(resolve, 50));
						inside.set(name, inside.get(name)! - 1);
					}),
				),
			),
		);
		expect(overlaps).toBe(0);
		expect(lost).toEqual([]);
	}, 30_000);
});
