import { getEventListeners } from 'node:events';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type RawServer, startRawServer } from './test-utils/raw-server.ts';

const local = createNodeFetch({ allowPrivateNetwork: true });

describe('createNodeFetch: a switch of protocols', () => {
	let server: RawServer;
	let requests = 0;
	beforeAll(async () => {
		server = await startRawServer((socket) => {
			requests++;
			// an answer node:http hands to an 'upgrade' listener, not to 'response'
			socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: foo\r\nconnection: upgrade\r\n\r\n');
		});
	});
	afterAll(() => server.close());

	it('rejects a 101 the server sends unasked with TypeError("fetch failed"), and closes the connection', async () => {
		const error = await local(`${server.origin}/`).catch((e) => e);

		expect(error).toBeInstanceOf(TypeError);
		expect(error.message).toBe('fetch failed');
		expect(error.cause.message).toContain('switched protocols (101)');
		await expect.poll(() => server.open).toBe(0);
	});

	it('removes its abort listener once the fetch has failed', async () => {
		const controller = new AbortController();
		const error = await local(`${server.origin}/`, { signal: controller.signal }).catch((e) => e);

		expect(error.message).toBe('fetch failed');
		// a long-lived signal (an app's shutdown signal) would keep every failed request alive
		expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
	});

	it.each([
		['the CONNECT method', { method: 'CONNECT' }, "'CONNECT' HTTP method is unsupported."],
		['the connect method', { method: 'connect' }, "'CONNECT' HTTP method is unsupported."],
		['the TRACE method', { method: 'TRACE' }, "'TRACE' HTTP method is unsupported."],
		['the track method', { method: 'track' }, "'TRACK' HTTP method is unsupported."],
		['an Upgrade header', { headers: { upgrade: 'websocket' } }, 'fetch failed'],
		['Connection: upgrade', { headers: { connection: 'Upgrade' } }, 'fetch failed'],
	])('refuses %s up front, as fetch does', async (_label, init: RequestInit, message) => {
		const before = requests;

		const error = await local(`${server.origin}/`, init).catch((e) => e);

		expect(error).toBeInstanceOf(TypeError);
		expect(error.message).toBe(message);
		expect(requests).toBe(before);
	});

	it('keeps Connection: close and keep-alive', async () => {
		const ok = await startRawServer((socket) =>
			socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'),
		);
		try {
			for (const connection of ['close', 'keep-alive']) {
				const response = await local(`${ok.origin}/`, { headers: { connection } });
				expect(await response.text()).toBe('ok');
			}
		} finally {
			await ok.close();
		}
	});
});
