import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { gzipSync } from 'node:zlib';

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
			} else if (path === '/ftp') {
				response.writeHead(302, { location: `ftp://localhost:${server.port}/target` }).end();
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

	it('refuses a redirect to a protocol other than http(s), sending nothing to it', async () => {
		const error = await local(`${server.origin}/ftp`).catch((e) => e);

		expect(error).toBeInstanceOf(TypeError);
		expect(error.message).toBe('fetch failed: unsupported protocol ftp:');
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

describe('createNodeFetch: an abort between two hops of a redirect', () => {
	let server: LoopbackServer;
	const body = gzipSync('moved');
	beforeAll(async () => {
		server = await startHttpServer((request, response) => {
			if (request.url === '/start') {
				// a compressed body is streamed: letting it go waits for its end, a turn of I/O
				response
					.writeHead(307, { location: '/target', 'content-encoding': 'gzip', 'content-length': body.length })
					.end(body);
			} else {
				response.writeHead(200).end('target reached');
			}
		});
	});
	afterAll(() => server.close());

	it('sends no next hop once the signal aborted while the redirect was let go, and rejects with its reason', async () => {
		const controller = new AbortController();
		const reason = new Error('the caller gave up');
		// the caller aborts as the redirect's body ends, before the next hop would go out
		const onResponse = ({ response }: { response: IncomingMessage }) => {
			if (response.statusCode === 307) response.once('end', () => controller.abort(reason));
		};
		diagnosticsChannel.subscribe('http.client.response.finish', onResponse as never);
		try {
			const outcome = await local(`${server.origin}/start`, {
				method: 'POST',
				body: 'x',
				signal: controller.signal,
			}).then(
				(response) => `resolved ${response.status}`,
				(err: unknown) => err,
			);
			expect(outcome).toBe(reason);
		} finally {
			diagnosticsChannel.unsubscribe('http.client.response.finish', onResponse as never);
		}
		expect(server.requests.map((request) => request.url)).toEqual(['/start']);
	});
});
