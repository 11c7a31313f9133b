import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCommand } from './run-command.ts';

// a Redis whose connections are all taken for a while (maxclients reached: a restart storm of app
// instances, a connection leak elsewhere) writes "-ERR max number of clients reached" on each new
// connection and closes it (networking.c, acceptCommonHandler). across a network the client has
// written its AUTH by the time that line arrives, so ioredis reads it as AUTH's ReplyError,
// which it emits as an 'error' event. simulated here by a server that answers so after a network's delay: a passing
// condition, which must stay transient (before d62f88b it was "not connected", transient)
describe('runCommand, a remote Redis at maxclients', () => {
	let server: Server;
	let port: number;
	const sockets = new Set<import('node:net').Socket>();
	beforeAll(async () => {
		server = createServer((socket) => {
			sockets.add(socket);
			socket.on('close', () => sockets.delete(socket));
			socket.on('error', () => {});
			setTimeout(() => socket.end('-ERR max number of clients reached\r\n'), 20);
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		port = (server.address() as AddressInfo).port;
	});
	afterAll(async () => {
		for (const socket of sockets) socket.destroy();
		await new Promise((resolve) => server.close(resolve));
	});

	it('is transient while every connection is taken (a client with a password: AUTH meets the reply)', async () => {
		const redis = new Redis({ port, host: '127.0.0.1', retryStrategy: () => 50, password: 'app-password' });
		const seen: string[] = [];
		redis.on('error', (e: Error) => seen.push(`${e.name}: ${e.message}`));
		const failure = await runCommand(redis, { timeout: 1_000 }, () => redis.ping()).then(
			() => undefined,
			(err: unknown) => err,
		);
		redis.disconnect();
		expect(seen).toContain('ReplyError: ERR max number of clients reached');
		expect(failure).toMatchObject({ transient: true });
	}, 20_000);
});
