import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDpopFetch } from './create-dpop-fetch.ts';
import { type DpopKey, generateDpopKey } from './dpop-key.ts';
import { MemoryDpopNonceCache } from './dpop-nonce-cache.ts';
import { type DpopTestServer, startDpopTestServer } from './test-utils/dpop-test-server.ts';

// a hostile server (any handle can name one) hands out nonces as long as a header may be: kept,
// each took its whole length in the nonce cache, for each of the 1,000 origins it remembers (over
// 10 MB within Node's header limit, where the cache's documented cost is about 190 bytes an origin)
describe('createDpopFetch and a nonce longer than any server needs', () => {
	const NONCE = 'n'.repeat(8_000);
	let key: DpopKey;
	let server: DpopTestServer;
	/** the nonces the last `count` proofs carried. */
	const lastNonces = (count: number) => server.requests.slice(-count).map((request) => request.proof?.nonce);

	beforeAll(async () => {
		key = await generateDpopKey();
		// refuses a proof without its nonce (an authorization server's use_dpop_nonce), takes one with it
		server = await startDpopTestServer({ newNonce: () => NONCE });
	});
	afterAll(() => server.close());

	it('is not written to the nonce cache; the fetch that received it sends it on', async () => {
		const nonces = new MemoryDpopNonceCache();
		const fetch = createDpopFetch({ key, nonces });
		const response = await fetch(`${server.origin}/oauth/par`, { method: 'POST', body: 'a=b' });
		expect(response.status).toBe(200);
		// refused without it, then sent again with it
		expect(lastNonces(2)).toEqual([undefined, NONCE]);
		expect(nonces.get(server.origin)).toBeUndefined();

		// the same fetch's next request carries it at once
		expect((await fetch(`${server.origin}/oauth/par`, { method: 'POST', body: 'a=b' })).status).toBe(200);
		expect(lastNonces(1)).toEqual([NONCE]);
	});

	it('reaches the caller of a fetch that does not retry: its own retry carries it', async () => {
		const nonces = new MemoryDpopNonceCache();
		const fetch = createDpopFetch({ key, nonces, retry: false });
		expect((await fetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=b' })).status).toBe(400);
		expect((await fetch(`${server.origin}/oauth/token`, { method: 'POST', body: 'a=b' })).status).toBe(200);
		expect(lastNonces(2)).toEqual([undefined, NONCE]);
		expect(nonces.get(server.origin)).toBeUndefined();
	});
});
