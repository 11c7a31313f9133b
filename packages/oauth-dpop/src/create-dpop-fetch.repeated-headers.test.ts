import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDpopFetch } from './create-dpop-fetch.ts';
import { type DpopKey, generateDpopKey } from './dpop-key.ts';

/**
 * a server behind a proxy that sends its `DPoP-Nonce` and `Content-Type` headers twice (the
 * upstream's, and the same value added again by the proxy's own configuration): fetch's `Headers`
 * joins the two as "n, n", which is no nonce (RFC 9449 §8.1: 1*NQCHAR, no space), and
 * "application/json, application/json", which is JSON as the Fetch standard extracts it.
 */
describe('createDpopFetch, headers sent twice', () => {
	const NONCE = 'nonce-from-the-server';
	let key: DpopKey;
	let server: Server;
	let origin: string;
	const sent: unknown[] = [];

	beforeAll(async () => {
		key = await generateDpopKey();
		server = createServer((req, res) => {
			req.resume();
			const nonce = decodeJwt(String(req.headers.dpop)).nonce;
			sent.push(nonce);
			res.setHeader('dpop-nonce', [NONCE, NONCE]);
			res.setHeader(
				'content-type',
				req.url === '/token-typed-twice' ? ['application/json', 'application/json'] : 'application/json',
			);
			if (nonce === NONCE) return res.end('{"ok":true}');
			if (req.url?.startsWith('/token')) {
				res.statusCode = 400;
				return res.end('{"error":"use_dpop_nonce"}');
			}
			res.statusCode = 401;
			res.setHeader('www-authenticate', 'DPoP error="use_dpop_nonce"');
			res.end('{"error":"use_dpop_nonce"}');
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

	it('sends the nonce once, not the joined list, to an authorization server and a resource server', async () => {
		const dpopFetch = createDpopFetch({ key });
		const token = await dpopFetch(`${origin}/token`, { method: 'POST', body: 'a=1' });
		expect(token.status).toBe(200);
		const call = await createDpopFetch({ key })(`${origin}/xrpc/x`, {
			headers: { authorization: 'DPoP at' },
		});
		expect(call.status).toBe(200);
		expect(sent).toEqual([undefined, NONCE, undefined, NONCE]);
	});

	it("retries an authorization server's use_dpop_nonce whose Content-Type came twice", async () => {
		sent.length = 0;
		const token = await createDpopFetch({ key })(`${origin}/token-typed-twice`, {
			method: 'POST',
			body: 'a=1',
		});
		expect(token.status).toBe(200);
		expect(sent).toEqual([undefined, NONCE]);
	});
});
