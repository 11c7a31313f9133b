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
