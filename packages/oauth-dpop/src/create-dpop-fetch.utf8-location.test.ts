import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDpopFetch } from './create-dpop-fetch.ts';
import { type DpopKey, generateDpopKey } from './dpop-key.ts';

/** `text` as the header value a runtime's fetch gives for its UTF-8 bytes: one character per byte. */
const asHeaderBytes = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

// a server that writes a Location in raw UTF-8 (not percent-encoded): RFC 9110 wants a URI, but
// browsers and Node's fetch read its bytes as UTF-8, and follow the redirect to the path meant
describe('createDpopFetch, a redirect whose Location holds raw UTF-8', () => {
	let key: DpopKey;
	let server: Server;
	let origin: string;
	const paths: string[] = [];
	beforeAll(async () => {
		key = await generateDpopKey();
		server = createServer((request, response) => {
			paths.push(request.url!);
			if (request.url === '/moved') {
				response.writeHead(302, { location: asHeaderBytes('/blobs/café') }).end();
			} else {
				response.writeHead(200, { 'content-type': 'text/plain' }).end(request.url);
			}
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

	it('follows it to the UTF-8 percent-encoded path, as fetch itself does', async () => {
		const plain = await fetch(`${origin}/moved`);
		expect(await plain.text()).toBe('/blobs/caf%C3%A9');

		paths.length = 0;
		const dpopFetch = createDpopFetch({ key, fetch: globalThis.fetch, retry: false });
		const response = await dpopFetch(`${origin}/moved`);
		expect(response.redirected).toBe(true);
		expect(paths).toEqual(['/moved', '/blobs/caf%C3%A9']);
		expect(await response.text()).toBe('/blobs/caf%C3%A9');
	});
});
