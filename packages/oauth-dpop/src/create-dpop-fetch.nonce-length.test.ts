import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDpopFetch } from './create-dpop-fetch.ts';
import { type DpopKey, generateDpopKey } from './dpop-key.ts';
import { MemoryDpopNonceCache } from './dpop-nonce-cache.ts';

/** the nonce a request's proof carries. */
const nonceOf = (proof: string | undefined): unknown =>
	proof === undefined
		? undefined
		: JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString()).nonce;

// a hostile server (any handle can name one) hands out nonces as long as a header may be: kept,
// each took its whole length in the nonce cache, for each of the 1,000 origins it remembers (over
// 10 MB within Node's header limit, where the cache's documented cost is about 190 bytes an origin)
describe('createDpopFetch and a nonce longer than any server needs', () => {
	const NONCE = 'n'.repeat(8_000);
	let key: DpopKey;
	let server: Server;
	let origin: string;
	const seen: unknown[] = [];

	beforeAll(async () => {
		key = await generateDpopKey();
		// refuses a proof without its nonce (an authorization server's use_dpop_nonce), takes one with it
		server = createServer((req, res) => {
			const nonce = nonceOf(req.headers.dpop as string | undefined);
			seen.push(nonce);
			res.writeHead(nonce === NONCE ? 200 : 400, { 'content-type': 'application/json', 'dpop-nonce': NONCE });
			res.end(nonce === NONCE ? '{}' : '{"error":"use_dpop_nonce"}');
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

	it('is not written to the nonce cache; the fetch that received it sends it on', async () => {
		const nonces = new MemoryDpopNonceCache();
		const fetch = createDpopFetch({ key, nonces });
		const response = await fetch(`${origin}/oauth/par`, { method: 'POST', body: 'a=b' });
		expect(response.status).toBe(200);
		// refused without it, then sent again with it
		expect(seen.slice(-2)).toEqual([undefined, NONCE]);
		expect(nonces.get(origin)).toBeUndefined();

		// the same fetch's next request carries it at once
		expect((await fetch(`${origin}/oauth/par`, { method: 'POST', body: 'a=b' })).status).toBe(200);
		expect(seen.slice(-1)).toEqual([NONCE]);
	});

	it('reaches the caller of a fetch that does not retry: its own retry carries it', async () => {
		const nonces = new MemoryDpopNonceCache();
		const fetch = createDpopFetch({ key, nonces, retry: false });
		expect((await fetch(`${origin}/oauth/token`, { method: 'POST', body: 'a=b' })).status).toBe(400);
		expect((await fetch(`${origin}/oauth/token`, { method: 'POST', body: 'a=b' })).status).toBe(200);
		expect(seen.slice(-2)).toEqual([undefined, NONCE]);
		expect(nonces.get(origin)).toBeUndefined();
	});
});
