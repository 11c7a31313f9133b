import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type LoopbackServer, startHttpServer } from '../test-utils/loopback-servers.ts';
import { createNodeTransport } from './node-transport.ts';

describe('createNodeTransport set-up', () => {
	let server: LoopbackServer;
	beforeAll(async () => {
		server = await startHttpServer((_request, response) => response.writeHead(200).end('direct'));
	});
	afterAll(() => server.close());

	it('sets up again after a set-up that threw, never connecting around the way it was given', async () => {
		let setUps = 0;
		const transport = createNodeTransport({ allowPrivateNetwork: true }, () => {
			setUps++;
			if (setUps === 1) throw new TypeError('the proxy could not be set up');
			// the way to connect from then on: it refuses, so a request that reaches the server
			// went around it
			return (_options: unknown, callback: (error: Error) => void) =>
				callback(new Error('refused by the only way out'));
		});

		await expect(transport(`${server.origin}/`)).rejects.toThrow(/could not be set up/);
		await expect(transport(`${server.origin}/`)).rejects.toThrow();
		await expect(transport(`${server.origin}/`)).rejects.toThrow();
		expect(setUps).toBeGreaterThanOrEqual(2);
	});
});

describe('createNodeTransport: concurrent first requests', () => {
	let server: LoopbackServer;
	// answered together once a whole batch waits: every request of a batch holds a connection
	const BATCH = 10;
	let held: (() => void)[] = [];
	beforeAll(async () => {
		server = await startHttpServer((_request, response) => {
			held.push(() => response.writeHead(200).end('ok'));
			if (held.length < BATCH) return;
			for (const answer of held) answer();
			held = [];
		});
	});
	afterAll(() => server.close());

	it('share one connection pool: a second batch reuses the first batch’s connections', async () => {
		// called for each agent a set-up makes (http and https); undefined: connect directly
		let connectVias = 0;
		const transport = createNodeTransport({ allowPrivateNetwork: true }, () => {
			connectVias++;
			return undefined;
		});
		const batch = () =>
			Promise.all(Array.from({ length: BATCH }, async () => (await transport(`${server.origin}/`)).text()));

		await batch();
		expect(server.connections).toBe(BATCH);
		// the connections go back to the pool once their bodies have ended
		await new Promise((resolve) => setTimeout(resolve, 50));
		await batch();

		expect(server.connections).toBe(BATCH);
		expect(connectVias).toBe(2);
	});
});
