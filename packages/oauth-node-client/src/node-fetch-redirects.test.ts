import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type LoopbackServer, startHttpServer } from './test-utils/loopback-servers.ts';

const local = createNodeFetch({ allowPrivateNetwork: true });

describe('createNodeFetch: Location headers and response URLs, as fetch reads them', () => {
	let server: LoopbackServer;
	beforeAll(async () => {
		server = await startHttpServer((request, response) => {
			const path = request.url!;
			if (path === '/utf8') {
				// the UTF-8 bytes of /café, written as they come (node:http writes a string as latin1)
				response.writeHead(302, [['location', Buffer.from('/café').toString('latin1')]]).end();
			} else if (path === '/credentials') {
				response.writeHead(302, { location: `http://user:secret@localhost:${server.port}/target` }).end();
			} else if (path === '/invalid') {
				response.writeHead(302, { location: 'http://[::1' }).end();
			} else if (path === '/no-location') {
				response.writeHead(302).end('moved, but nowhere');
			} else {
				response.writeHead(200).end(path);
			}
		});
	});
	afterAll(() => server.close());

	const reached = () => server.requests.map((request) => request.url);

	it("decodes a Location's bytes as UTF-8", async () => {
		const response = await local(`${server.origin}/utf8`);

		expect(response.url).toBe(`${server.origin}/caf%C3%A9`);
		expect(await response.text()).toBe('/caf%C3%A9');
	});

	it('refuses a redirect to a URL with credentials with TypeError("fetch failed")', async () => {
		const error = await local(`${server.origin}/credentials`).catch((e) => e);

		expect(error).toBeInstanceOf(TypeError);
		expect(error.message).toBe('fetch failed');
		expect(error.cause.message).toContain('credentials');
		expect(reached()).not.toContain('/target');
	});

	it('rejects an invalid Location with TypeError("fetch failed"), the URL error as its cause', async () => {
		const error = await local(`${server.origin}/invalid`).catch((e) => e);

		expect(error).toBeInstanceOf(TypeError);
		expect(error.message).toBe('fetch failed');
		expect(error.cause).toMatchObject({ code: 'ERR_INVALID_URL' });
	});

	it("refuses a redirect status without a Location under redirect: 'error', and returns it otherwise", async () => {
		await expect(local(`${server.origin}/no-location`, { redirect: 'error' })).rejects.toBeInstanceOf(
			TypeError,
		);

		const followed = await local(`${server.origin}/no-location`);
		expect(followed.status).toBe(302);
		expect(await followed.text()).toBe('moved, but nowhere');
	});

	it('leaves the fragment out of response.url, and out of the request', async () => {
		const response = await local(`${server.origin}/target?q=1#fragment`);

		expect(response.url).toBe(`${server.origin}/target?q=1`);
		expect(await response.text()).toBe('/target?q=1');
		const empty = await local(`${server.origin}/target#`);
		expect(empty.url).toBe(`${server.origin}/target`);
		await empty.text();
	});
});
