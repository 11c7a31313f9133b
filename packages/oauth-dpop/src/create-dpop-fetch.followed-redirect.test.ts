import { beforeAll, describe, expect, it } from 'vitest';

import { createDpopFetch, type FetchFunction } from './create-dpop-fetch.ts';
import { type DpopKey, generateDpopKey } from './dpop-key.ts';
import { MemoryDpopNonceCache } from './dpop-nonce-cache.ts';
import { ServerClocks } from './server-clocks.ts';

const PDS = 'https://pds.example';

/** an answer another origin gave, reached by a redirect the app's fetch followed itself. */
const fromElsewhere = (response: Response): Response => {
	Object.defineProperty(response, 'redirected', { value: true });
	Object.defineProperty(response, 'url', { value: 'https://cdn.other.example/blob' });
	return response;
};

describe('createDpopFetch, answers of another origin (an app fetch that follows redirects)', () => {
	let key: DpopKey;
	beforeAll(async () => {
		key = await generateDpopKey();
	});

	it("neither learns another origin's nonce under the PDS's name nor retries on its use_dpop_nonce", async () => {
		const nonces = new MemoryDpopNonceCache();
		nonces.set(PDS, 'pds-nonce');
		let calls = 0;
		const following: FetchFunction = async () => {
			calls++;
			return fromElsewhere(
				new Response('{"error":"use_dpop_nonce"}', {
					status: 401,
					headers: { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'other-nonce' },
				}),
			);
		};
		const dpopFetch = createDpopFetch({ key, nonces, fetch: following });
		const response = await dpopFetch(`${PDS}/xrpc/com.atproto.sync.getBlob`, {
			headers: { authorization: 'DPoP tok' },
		});
		expect(response.status).toBe(401);
		// the proof (and token) were not sent through the redirect a second time
		expect(calls).toBe(1);
		expect(nonces.get(PDS)).toBe('pds-nonce');
	});

	it("does not move the PDS's clock, nor confirm it, on another origin's Date", async () => {
		const now = 1_700_000_000_000;
		const clocks = new ServerClocks({ now: () => now });
		// the PDS runs 30 s behind: it was put on its own clock by a refusal
		clocks.adopt(PDS, new Headers({ date: new Date(now - 30_000).toUTCString() }), undefined);
		const before = clocks.offset(PDS)!;
		expect(before).toBeLessThan(-29_000);
		const following: FetchFunction = async () =>
			fromElsewhere(new Response('blob', { status: 200, headers: { date: new Date(now).toUTCString() } }));
		const dpopFetch = createDpopFetch({ key, fetch: following, clocks, retry: false });
		await dpopFetch(`${PDS}/xrpc/com.atproto.sync.getBlob`, { headers: { authorization: 'DPoP tok' } });
		// the CDN's clock is not the PDS's: the next proofs to the PDS would be refused
		expect(clocks.offset(PDS)).toBe(before);
	});
});
