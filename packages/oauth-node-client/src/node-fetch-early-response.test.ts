import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';

const ANSWER = [
	'HTTP/1.1 401 Unauthorized',
	'WWW-Authenticate: DPoP error="use_dpop_nonce"',
	'DPoP-Nonce: n2',
	'Content-Type: application/json',
	'Content-Length: 26',
	'',
	'{"error":"use_dpop_nonce"}',
].join('\r\n');

describe('createNodeFetch: a server that answers before reading the upload, then stops reading', () => {
	let server: Server;
	let origin: string;
	// the server's side of each connection, paused once the request's head is read
	const connections: Socket[] = [];
	beforeAll(async () => {
		server = createServer((socket) => {
			connections.push(socket);
			socket.on('error', () => {});
			let head = '';
			const onData = (chunk: Buffer) => {
				head += chunk.toString('latin1');
				if (!head.includes('\r\n\r\n')) return;
				// answers at once, reads nothing more, and keeps the connection open
				socket.off('data', onData);
				socket.pause();
				socket.write(ANSWER);
			};
			socket.on('data', onData);
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(async () => {
		for (const socket of connections) socket.destroy();
		await new Promise((resolve) => server.close(resolve));
	});

	it('hands over the whole answer, then stops sending: the body stream and the connection are closed', async () => {
		// an upload far larger than the socket buffers: it stalls once they are full
		let produced = 0;
		const body = Readable.from(
			(function* () {
				for (let i = 0; i < 16_384; i++) {
					produced += 65_536;
					yield Buffer.alloc(65_536, 0x61);
				}
			})(),
		);
		const closed = new Promise<void>((resolve) => body.once('close', resolve));
		// the inactivity timeout is not what closes anything here
		const fetch = createNodeFetch({ allowPrivateNetwork: true, inactivityTimeout: 60_000 });

		const response = await fetch(`${origin}/xrpc/com.atproto.repo.uploadBlob`, {
			method: 'POST',
			body: body as never,
			duplex: 'half',
		} as RequestInit);

		expect(response.status).toBe(401);
		expect(response.headers.get('dpop-nonce')).toBe('n2');
		expect(await response.json()).toEqual({ error: 'use_dpop_nonce' });
		// the source is closed soon after the answer ended (once the body has had its second to
		// finish sending), long before it was all read
		await expect(Promise.race([closed.then(() => 'closed'), delay(3_000)])).resolves.toBe('closed');
		expect(produced).toBeLessThan(16_384 * 65_536);
		// the client's side closed: once the server reads again, it reaches the end
		const [socket] = connections;
		const ended = new Promise((resolve) => socket!.once('close', resolve));
		socket!.resume();
		await expect(Promise.race([ended.then(() => 'closed'), delay(5_000)])).resolves.toBe('closed');
		expect(connections).toHaveLength(1);
	}, 15_000);
});

const delay = (ms: number) => new Promise<string>((resolve) => setTimeout(() => resolve('timed out'), ms));
