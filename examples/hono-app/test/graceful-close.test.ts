import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

import { gracefulClose } from '../src/graceful-close.ts';

/** a server whose answers take `delayMs`, listening on 127.0.0.1. */
const slowServer = async (delayMs: number): Promise<{ server: Server; port: number }> => {
	const server = createServer((_request, response) => {
		setTimeout(() => response.end('done'), delayMs);
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	return { server, port: (server.address() as { port: number }).port };
};

/** a kept-alive connection that sends GETs and collects what comes back. */
const keptAlive = async (port: number) => {
	const socket: Socket = connect(port, '127.0.0.1');
	await once(socket, 'connect');
	let received = '';
	socket.on('data', (chunk: Buffer) => {
		received += chunk.toString('latin1');
	});
	const closed = once(socket, 'close');
	return {
		send: () => socket.write('GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: keep-alive\r\n\r\n'),
		received: () => received,
		closed,
		socket,
	};
};

let open: Server | undefined;
afterEach(() => {
	open?.closeAllConnections();
	open?.close();
});

describe('gracefulClose', () => {
	it('answers the requests under way with Connection: close, and is done once they are, long before the grace', async () => {
		const { server, port } = await slowServer(200);
		open = server;
		const stop = gracefulClose(server);
		const busy = await keptAlive(port);
		const idle = await keptAlive(port);
		busy.send();
		await new Promise((resolve) => setTimeout(resolve, 50));

		const started = performance.now();
		await stop(10_000);
		const took = performance.now() - started;
		await busy.closed;
		// the connection that had sent nothing was closed, not left until the grace ran out
		await idle.closed;
		// the request under way was answered, and told its connection is over
		expect(busy.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
		expect(busy.received().toLowerCase()).toContain('connection: close');
		expect(busy.received()).toMatch(/done$/);
		expect(took).toBeLessThan(5_000);
	});

	it('closes a connection whose client keeps sending after the stop began, after one answer', async () => {
		const { server, port } = await slowServer(100);
		open = server;
		const stop = gracefulClose(server);
		const client = await keptAlive(port);
		client.send();
		await new Promise((resolve) => setTimeout(resolve, 20));
		const stopping = stop(10_000);
		// the client sends on, as a proxy's pool would; nothing more is answered on this connection
		const again = setInterval(() => {
			if (!client.socket.destroyed && client.socket.writable) client.send();
		}, 20);
		await stopping;
		clearInterval(again);
		await client.closed;
		expect(client.received().match(/HTTP\/1\.1 200 OK/g)).toHaveLength(1);
	});

	it('cuts the connections still busy when the grace runs out', async () => {
		const { server, port } = await slowServer(60_000);
		open = server;
		const stop = gracefulClose(server);
		const busy = await keptAlive(port);
		busy.send();
		await new Promise((resolve) => setTimeout(resolve, 20));
		await stop(200);
		await busy.closed;
		expect(busy.received()).toBe('');
	});
});
