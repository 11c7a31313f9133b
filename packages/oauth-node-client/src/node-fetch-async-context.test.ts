import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';

/** what an app keeps per request: its id (a request logger, a trace, reads it). */
const als = new AsyncLocalStorage<{ requestId: string }>();

describe("createNodeFetch and the caller's async context", () => {
	let server: Server;
	let origin: string;
	let connections = 0;
	beforeAll(async () => {
		// an answer of several chunks: the body is read over several turns of the socket
		server = createServer((_request, response) => response.end('x'.repeat(200_000)));
		server.on('connection', () => connections++);
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

	it('hands each request its own context back, and in each read of the body, over pooled connections another request opened', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true });
		const wrong: string[] = [];
		const request = (requestId: string) =>
			als.run({ requestId }, async () => {
				const response = await fetch(`${origin}/`);
				if (als.getStore()?.requestId !== requestId) wrong.push(`${requestId}: answer`);
				const reader = response.body!.getReader();
				for (;;) {
					const { done } = await reader.read();
					if (als.getStore()?.requestId !== requestId) wrong.push(`${requestId}: read`);
					if (done) break;
				}
			});
		await request('A');
		await Promise.all([request('B'), request('C')]);
		await request('D');
		// A's connection served B or C, and one of theirs D
		expect(connections).toBe(2);
		expect(wrong).toEqual([]);
	});
});
