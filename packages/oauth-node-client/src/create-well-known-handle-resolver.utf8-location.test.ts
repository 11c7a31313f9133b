import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { createWellKnownHandleResolver } from './create-well-known-handle-resolver.ts';
import { type LoopbackServer, startHttpServer } from './test-utils/loopback-servers.ts';

const DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';

/** `text` as the header value a runtime's fetch gives for its UTF-8 bytes: one character per byte. */
const asHeaderBytes = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

// a handle host whose redirect names its target in raw UTF-8 (not percent-encoded): RFC 9110 wants
// a URI, but browsers and Node's fetch read the bytes as UTF-8 and follow it to the path meant
describe('createWellKnownHandleResolver, a redirect whose Location holds raw UTF-8', () => {
	let server: LoopbackServer;
	beforeAll(async () => {
		server = await startHttpServer((request, response) => {
			if (request.url === '/.well-known/atproto-did') {
				response.writeHead(302, { location: asHeaderBytes('/dids/café.txt') }).end();
			} else if (request.url === '/dids/caf%C3%A9.txt') {
				response.writeHead(200, { 'content-type': 'text/plain' }).end(`${DID}\n`);
			} else {
				response.writeHead(404).end();
			}
		});
	});
	afterAll(() => server.close());

	/** `base`, given the handle's `https:` URLs, sent to the loopback server over http. */
	const mapped =
		(base: typeof fetch): typeof fetch =>
		(input, init) => {
			const url = new URL(input instanceof Request ? input.url : input);
			return base(`http://localhost:${server.port}${url.pathname}${url.search}`, init);
		};

	it.each([
		['fetch', () => mapped(fetch)],
		['the Node transport', () => mapped(createNodeFetch({ allowPrivateNetwork: ['localhost'] }))],
	])('follows it to the UTF-8 percent-encoded path through %s', async (_name, make) => {
		server.requests.length = 0;
		const resolver = createWellKnownHandleResolver({ fetch: make() });
		expect(await resolver.resolve('alice.test')).toBe(DID);
		expect(server.requests.map((request) => request.url)).toEqual([
			'/.well-known/atproto-did',
			'/dids/caf%C3%A9.txt',
		]);
	});
});
