import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCommand } from './run-command.ts';

// lasting setup refusals that SETUP_REFUSALS does not list: before 26f25e4 every ReplyError at
// setup but the transient ones was a refusal (transient: false); now these read as an outage
const REFUSALS = [
	// Redis 5 and earlier (and servers built on its code), a wrong password
	'-ERR invalid password',
	// protected mode (no password, bind not set) refusing a non-loopback client, on every command
	'-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user.',
];

describe.each(REFUSALS)('runCommand, a Redis that answers the setup with %s', (line) => {
	let server: Server;
	let port: number;
	const sockets = new Set<Socket>();
	beforeAll(async () => {
		server = createServer((socket) => {
			sockets.add(socket);
			socket.on('close', () => sockets.delete(socket));
			socket.on('error', () => {});
			// every command on the connection is answered so (AUTH first, or the ready check's INFO)
			socket.on('data', (data) => {
				const commands = data.toString().split('*').length - 1;
				for (let i = 0; i < commands; i++) socket.write(`${line}\r\n`);
			});
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		port = (server.address() as AddressInfo).port;
	});
	afterAll(async () => {
		for (const socket of sockets) socket.destroy();
		await new Promise((resolve) => server.close(resolve));
	});

	it('is a lasting refusal, not an outage', async () => {
		const redis = new Redis({ port, host: '127.0.0.1', retryStrategy: () => 50, password: 'pw' });
		const seen: string[] = [];
		redis.on('error', (e: Error) => seen.push(`${e.name}: ${e.message}`));
		const failure = await runCommand(redis, { timeout: 1_000 }, () => redis.ping()).then(
			() => undefined,
			(err: unknown) => err,
		);
		redis.disconnect();
		expect(seen).toContain(`ReplyError: ${line.slice(1)}`);
		expect(failure).toMatchObject({ transient: false });
	}, 20_000);
});
