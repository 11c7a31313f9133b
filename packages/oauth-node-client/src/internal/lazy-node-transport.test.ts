import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type LoopbackServer, startHttpServer } from '../test-utils/loopback-servers.ts';
import { lazyNodeTransport } from './lazy-node-transport.ts';

describe('lazyNodeTransport', () => {
	let server: LoopbackServer;
	beforeAll(async () => {
		server = await startHttpServer((_request, response) => response.writeHead(200).end('ok'));
	});
	afterAll(() => server.close());

	it('checks its options when it is made, before its code is loaded', () => {
		expect(() => lazyNodeTransport({ connectTimeout: 0 })).toThrow(
			/connectTimeout must be a positive number/,
		);
		expect(() => lazyNodeTransport({ maxRequestsPerOrigin: 1.5 })).toThrow(/maxRequestsPerOrigin/);
		expect(() => lazyNodeTransport({ allowPrivateNetwork: ['*.internal'] })).toThrow(/wildcard/);
	});

	it('reads its options once, when it is made', async () => {
		const options: { allowPrivateNetwork: boolean } = { allowPrivateNetwork: true };
		const transport = lazyNodeTransport(options);
		// a later change does not reach a transport made already (the guard would now refuse loopback)
		options.allowPrivateNetwork = false;
		expect(await (await transport(`${server.origin}/`)).text()).toBe('ok');
	});

	it('makes one transport for concurrent first requests, and sends each', async () => {
		// called for each agent a transport's set-up makes (http and https)
		let connectVias = 0;
		const transport = lazyNodeTransport({ allowPrivateNetwork: true }, () => {
			connectVias++;
			return undefined;
		});
		const answers = await Promise.all(
			Array.from({ length: 5 }, async () => (await transport(`${server.origin}/`)).text()),
		);
		expect(answers).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
		expect(connectVias).toBe(2);
		expect(await (await transport(`${server.origin}/`)).text()).toBe('ok');
		expect(connectVias).toBe(2);
	});
});
