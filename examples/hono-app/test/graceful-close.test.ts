import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { createTestTls, type TestTls } from '@atcute-oauth/test-oauth-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { gracefulClose } from '../src/graceful-close.ts';

/** `server` listening on 127.0.0.1. */
const listening = async (server: Server): Promise<{ server: Server; port: number }> => {
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	return { server, port: (server.address() as { port: number }).port };
};

/** a server whose answers take `delayMs`, listening on 127.0.0.1. */
const slowServer = async (delayMs: number): Promise<{ server: Server; port: number }> => {
	const server = createServer((_request, response) => {
		setTimeout(() => response.end('done'), delayMs);
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	return { server, port: (server.address() as { port: number }).port };
};

/** a kept-alive connection that sends GETs and collects what comes back (over TLS with `ca`). */
const keptAlive = async (port: number, ca?: string) => {
	const socket: Socket =
		ca === undefined ? connect(port, '127.0.0.1') : connectTls({ port, host: '127.0.0.1', ca });
	await once(socket, ca === undefined ? 'connect' : 'secureConnect');
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

	it('answers every pipelined request under way, and only then closes the connection', async () => {
		let handled = 0;
		const { server, port } = await listening(
			createServer((_request, response) => {
				handled += 1;
				setTimeout(() => response.end(`done${handled}`), 100);
			}),
		);
		open = server;
		const stop = gracefulClose(server);
		const client = await keptAlive(port);
		client.send();
		client.send();
		client.send();
		await expect.poll(() => handled).toBe(3);
		await stop(10_000);
		await client.closed;
		expect(client.received().match(/HTTP\/1\.1 200 OK/g)).toHaveLength(3);
	});

	it('ends a connection whose answer was already streaming at the stop once it is done', async () => {
		const { server, port } = await listening(
			createServer((_request, response) => {
				response.write('part ');
				setTimeout(() => response.end('end'), 150);
			}),
		);
		open = server;
		const stop = gracefulClose(server);
		const client = await keptAlive(port);
		client.send();
		await expect.poll(() => client.received()).toContain('part');
		const started = performance.now();
		await stop(10_000);
		await client.closed;
		expect(performance.now() - started).toBeLessThan(5_000);
		expect(client.received().match(/HTTP\/1\.1 200 OK/g)).toHaveLength(1);
	});

	it('lets a request that is still arriving at the stop finish, and answers it', async () => {
		const { server, port } = await slowServer(10);
		open = server;
		const stop = gracefulClose(server);
		const client = await keptAlive(port);
		client.socket.write('GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n');
		await new Promise((resolve) => setTimeout(resolve, 50));
		const stopping = stop(10_000);
		client.socket.write('\r\n');
		await stopping;
		await client.closed;
		expect(client.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*done$/);
		// told so: a client that trusted a kept-alive answer would send its next request for nothing
		expect(client.received().toLowerCase()).toContain('connection: close');
	});

	describe('over TLS (node:https)', () => {
		let tls: TestTls;
		let ca: string;
		beforeAll(async () => {
			tls = await createTestTls();
			ca = await readFile(tls.caPath, 'utf8');
		});
		afterAll(() => tls.remove());

		it('answers a request under way with Connection: close rather than cut it, and closes a connection that sent nothing', async () => {
			const handler: RequestListener = (_request, response) => {
				setTimeout(() => response.end('done'), 200);
			};
			const { server, port } = await listening(
				createHttpsServer({ key: tls.key, cert: tls.cert }, handler) as unknown as Server,
			);
			open = server;
			const stop = gracefulClose(server);
			const busy = await keptAlive(port, ca);
			const idle = await keptAlive(port, ca);
			busy.send();
			await new Promise((resolve) => setTimeout(resolve, 50));
			const started = performance.now();
			await stop(10_000);
			await busy.closed;
			await idle.closed;
			expect(busy.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
			expect(busy.received().toLowerCase()).toContain('connection: close');
			expect(performance.now() - started).toBeLessThan(5_000);
		});

		const httpsServer = () =>
			listening(
				createHttpsServer({ key: tls.key, cert: tls.cert }, (_request, response) => {
					response.end('done');
				}) as unknown as Server,
			);

		it('cuts a connection stuck in its TLS handshake when the grace runs out (Node would wait 120 s)', async () => {
			const { server, port } = await httpsServer();
			open = server;
			const stop = gracefulClose(server);
			// a client that connects and never says hello
			const stuck = connect(port, '127.0.0.1');
			await once(stuck, 'connect');
			const started = performance.now();
			await stop(300);
			expect(performance.now() - started).toBeLessThan(3_000);
			stuck.destroy();
		});

		it('closes at once a connection whose handshake ends after the stop', async () => {
			const { server, port } = await httpsServer();
			open = server;
			const stop = gracefulClose(server);
			const raw = connect(port, '127.0.0.1');
			await once(raw, 'connect');
			await new Promise((resolve) => setTimeout(resolve, 20));
			const started = performance.now();
			const stopping = stop(10_000);
			// a browser's preconnect, its handshake done after the stop, no request sent
			const late = connectTls({ socket: raw, ca, servername: 'localhost' });
			late.on('error', () => {});
			await stopping;
			expect(performance.now() - started).toBeLessThan(5_000);
			late.destroy();
		});
	});
});
