// the README's proxy sample passes the environment as it is:
// createNodeFetch({ proxy: process.env.HTTPS_PROXY, noProxy: process.env.NO_PROXY }). a variable set
// to nothing (`HTTPS_PROXY=` in an env file or a compose file) names no proxy, as curl and undici
// read it, and as an empty NO_PROXY names no host: the app must start, and connect directly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type LoopbackServer, startHttpServer } from './test-utils/loopback-servers.ts';

describe('createNodeFetch with an empty proxy', () => {
	let server: LoopbackServer;
	beforeAll(async () => {
		server = await startHttpServer((_request, response) => response.writeHead(200).end('direct'));
	});
	afterAll(() => server.close());

	it.each(['', '  '])('takes proxy %j as no proxy, and connects directly', async (proxy) => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true, proxy, noProxy: '' });
		const response = await fetch(`${server.origin}/`);
		expect(await response.text()).toBe('direct');
	});

	it('still refuses a proxy that is text but no URL', () => {
		expect(() => createNodeFetch({ proxy: 'proxy.internal:3128' })).toThrow(/^proxy must be an http: URL/);
	});
});
