import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCommand } from './run-command.ts';

/** a fake Redis on loopback for the describe's tests, handling each connection as `handle` says. */
const useFakeRedis = (handle: (socket: Socket) => void): { port: () => number } => {
	let server: Server;
	let port = 0;
	const sockets = new Set<Socket>();
	beforeAll(async () => {
		server = createServer((socket) => {
			sockets.add(socket);
			socket.on('close', () => sockets.delete(socket));
			socket.on('error', () => {});
			handle(socket);
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		port = (server.address() as AddressInfo).port;
	});
	afterAll(async () => {
		for (const socket of sockets) socket.destroy();
		await new Promise((resolve) => server.close(resolve));
	});
	return { port: () => port };
};

/**
 * a PING through `runCommand` by a client with a password (its AUTH meets the server's first
 * reply): the errors ioredis reported meanwhile, and the failure.
 */
const pingFailure = async (port: number): Promise<{ seen: string[]; failure: unknown }> => {
	const redis = new Redis({ port, host: '127.0.0.1', retryStrategy: () => 50, password: 'pw' });
	const seen: string[] = [];
	redis.on('error', (e: Error) => seen.push(`${e.name}: ${e.message}`));
	const failure = await runCommand(redis, { timeout: 1_000 }, () => redis.ping()).then(
		() => undefined,
		(err: unknown) => err,
	);
	redis.disconnect();
	return { seen, failure };
};

// refusals of a connection's setup that last: reconnecting never fixes them, so they must not read
// as an outage the app retries for ever
const REFUSALS = [
	// Redis 5 and earlier (and servers built on its code), a wrong password
	'-ERR invalid password',
	// protected mode (no password, bind not set) refusing a non-loopback client, on every command
	'-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user.',
];

describe.each(REFUSALS)('runCommand, a Redis that answers the setup with %s', (line) => {
	const server = useFakeRedis((socket) => {
		// every command on the connection is answered so (AUTH first, or the ready check's INFO)
		socket.on('data', (data) => {
			const commands = data.toString().split('*').length - 1;
			for (let i = 0; i < commands; i++) socket.write(`${line}\r\n`);
		});
	});

	it('is a lasting refusal, not an outage', async () => {
		const { seen, failure } = await pingFailure(server.port());
		expect(seen).toContain(`ReplyError: ${line.slice(1)}`);
		expect(failure).toMatchObject({ transient: false });
	}, 20_000);
});

// a Redis whose connections are all taken for a while (maxclients reached: a restart storm of app
// instances, a connection leak elsewhere) writes "-ERR max number of clients reached" on each new
// connection and closes it (networking.c, acceptCommonHandler). across a network the client has
// written its AUTH by the time that line arrives, so ioredis reads it as AUTH's ReplyError, which
// it emits as an 'error' event. simulated here by a server that answers so after a network's
// delay: a passing condition, which must stay transient
describe('runCommand, a remote Redis at maxclients', () => {
	const server = useFakeRedis((socket) => {
		setTimeout(() => socket.end('-ERR max number of clients reached\r\n'), 20);
	});

	it('is transient while every connection is taken (a client with a password: AUTH meets the reply)', async () => {
		const { seen, failure } = await pingFailure(server.port());
		expect(seen).toContain('ReplyError: ERR max number of clients reached');
		expect(failure).toMatchObject({ transient: true });
	}, 20_000);
});
