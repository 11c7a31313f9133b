import { describe, expect, it } from 'vitest';

import { bufferedResponse } from './buffered-response.ts';

/** a Response as a fetch gives one: after a redirect, from another URL. */
const fetched = (body: BodyInit | null, init: ResponseInit, url: string): Response => {
	const response = new Response(body, init);
	Object.defineProperty(response, 'url', { value: url });
	Object.defineProperty(response, 'redirected', { value: true });
	return response;
};

describe('bufferedResponse', () => {
	it('keeps the status, headers, url, redirected and body, with the body read already', async () => {
		let pulled = false;
		const body = new ReadableStream<Uint8Array>(
			{
				pull(controller) {
					pulled = true;
					controller.enqueue(new TextEncoder().encode('{"error":"invalid_token"}'));
					controller.close();
				},
			},
			{ highWaterMark: 0 },
		);
		const original = fetched(
			body,
			{
				status: 401,
				statusText: 'Unauthorized',
				headers: { 'www-authenticate': 'DPoP error="invalid_token"' },
			},
			'https://pds.example/xrpc/x',
		);
		const copy = await bufferedResponse(original);
		expect(pulled).toBe(true);
		expect(original.bodyUsed).toBe(true);
		expect([copy.status, copy.statusText, copy.url, copy.redirected]).toEqual([
			401,
			'Unauthorized',
			'https://pds.example/xrpc/x',
			true,
		]);
		expect(copy.headers.get('www-authenticate')).toBe('DPoP error="invalid_token"');
		// a clone, and its clone, say where it came from as well
		const clone = copy.clone().clone();
		expect([clone.url, clone.redirected, clone.status]).toEqual(['https://pds.example/xrpc/x', true, 401]);
		expect(await clone.text()).toBe('{"error":"invalid_token"}');
		expect(await copy.text()).toBe('{"error":"invalid_token"}');
	});

	it('keeps no body past 64 KiB, nor one that broke off', async () => {
		const long = await bufferedResponse(
			fetched('x'.repeat(64 * 1024 + 1), { status: 401 }, 'https://a.example/'),
		);
		expect([long.status, long.body]).toEqual([401, null]);
		const broken = new ReadableStream<Uint8Array>({
			pull(controller) {
				controller.error(new Error('reset'));
			},
		});
		const cut = await bufferedResponse(fetched(broken, { status: 401 }, 'https://a.example/'));
		expect([cut.status, cut.body, cut.url]).toEqual([401, null, 'https://a.example/']);
		// 64 KiB exactly is kept
		const full = await bufferedResponse(
			fetched('y'.repeat(64 * 1024), { status: 401 }, 'https://a.example/'),
		);
		expect((await full.text()).length).toBe(64 * 1024);
	});

	it('hands back a response without a body as it is', async () => {
		const empty = new Response(null, { status: 401 });
		expect(await bufferedResponse(empty)).toBe(empty);
	});
});
