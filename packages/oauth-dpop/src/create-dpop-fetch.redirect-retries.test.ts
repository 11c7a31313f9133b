import { beforeAll, describe, expect, it } from 'vitest';

import { createDpopFetch, type FetchFunction } from './create-dpop-fetch.ts';
import { type DpopKey, generateDpopKey } from './dpop-key.ts';
import { ServerClocks } from './server-clocks.ts';

const PDS = 'https://pds.example';

/** a 401 refusing the proof for `error`, with a new nonce (and a `Date`, for the clock's). */
const refusal = (error: string, nonce: string, date?: number): Response =>
	new Response(JSON.stringify({ error }), {
		status: 401,
		headers: {
			'www-authenticate': `DPoP error="${error}"`,
			'dpop-nonce': nonce,
			...(date === undefined ? {} : { date: new Date(date).toUTCString() }),
		},
	});

/**
 * the retries for a DPoP nonce and for the server's clock are each made once a call, redirects
 * followed included: a server that redirects to itself and refuses each hop's first proofs made the
 * call send three requests a hop (63 for the 20 redirects fetch follows), each with a proof of its
 * own, where fetch sends 21.
 */
describe('createDpopFetch, retries across the redirects it follows', () => {
	let key: DpopKey;
	beforeAll(async () => {
		key = await generateDpopKey();
	});

	it('retries for a nonce and for the clock once a call, not once a redirect hop', async () => {
		const now = Date.now();
		let calls = 0;
		const attempts = new Map<string, number>();
		let nonces = 0;
		// each path: refused for its nonce, then for its clock (a Date two minutes off, either way),
		// then redirected to the next path, 20 times
		const hostile: FetchFunction = async (input) => {
			calls++;
			const { pathname } = new URL(String(input));
			const hop = Number(pathname.slice(1));
			const attempt = (attempts.get(pathname) ?? 0) + 1;
			attempts.set(pathname, attempt);
			if (attempt === 1) return refusal('use_dpop_nonce', `nonce-${nonces++}`);
			if (attempt === 2) {
				return refusal('invalid_dpop_proof', `nonce-${nonces++}`, now + (hop % 2 ? 120_000 : -120_000));
			}
			if (hop < 20) return new Response(null, { status: 307, headers: { location: `/${hop + 1}` } });
			return new Response('ok');
		};
		const dpopFetch = createDpopFetch({ key, fetch: hostile, clocks: new ServerClocks({ now: Date.now }) });
		const response = await dpopFetch(`${PDS}/0`, { headers: { authorization: 'DPoP tok' } });
		// the first hop's two retries, its redirect, and the next hop's refusal, handed back
		expect(calls).toBe(4);
		expect(response.status).toBe(401);
		expect(response.redirected).toBe(true);
	});

	it('still follows a redirect with the nonce its first hop learnt', async () => {
		let calls = 0;
		const nonced: FetchFunction = async (input, init) => {
			calls++;
			const proof = new Headers(init?.headers).get('dpop')!;
			const { nonce } = JSON.parse(atob(proof.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));
			if (nonce !== 'current') return refusal('use_dpop_nonce', 'current');
			const { pathname } = new URL(String(input));
			if (pathname === '/0') return new Response(null, { status: 307, headers: { location: '/1' } });
			return new Response('ok', { headers: { 'dpop-nonce': 'current' } });
		};
		const dpopFetch = createDpopFetch({ key, fetch: nonced });
		const response = await dpopFetch(`${PDS}/0`, { headers: { authorization: 'DPoP tok' } });
		expect(response.status).toBe(200);
		expect(calls).toBe(3);
	});
});
