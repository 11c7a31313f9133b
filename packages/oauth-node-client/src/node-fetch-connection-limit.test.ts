import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type LoopbackServer, startHttpServer } from './test-utils/loopback-servers.ts';

const local = createNodeFetch({ allowPrivateNetwork: true });

describe('createNodeFetch: connections to one origin', () => {
	let server: LoopbackServer;
	beforeAll(async () => {
		// each answer waits a moment, so a burst's requests are all in flight at once
		server = await startHttpServer((_request, response) => {
			setTimeout(() => response.writeHead(200).end('ok'), 100);
		});
	});
	afterAll(() => server.close());

	// a burst of thousands of calls opened as many connections (TLS handshakes, on the real
	// network), which stalled the event loop for seconds: at most 256, the rest wait for one
	it('opens at most 256 connections for a burst of 300 requests, and answers them all', async () => {
		const responses = await Promise.all(Array.from({ length: 300 }, () => local(`${server.origin}/`)));
		const bodies = await Promise.all(responses.map((response) => response.text()));
		expect(bodies.every((body) => body === 'ok')).toBe(true);
		expect(server.connections).toBe(256);

		// kept, and used again by the next burst: no connection opened
		await Promise.all(Array.from({ length: 256 }, () => local(`${server.origin}/`).then((r) => r.text())));
		expect(server.connections).toBe(256);
	});
});
