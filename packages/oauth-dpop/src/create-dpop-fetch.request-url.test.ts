import { beforeAll, describe, expect, it, vi } from 'vitest';

import { createDpopFetch, type FetchFunction } from './create-dpop-fetch.ts';
import { type DpopKey, generateDpopKey } from './dpop-key.ts';

// createDpopProof and toHtu refuse these as htu: the fetch must refuse them too, before a proof is
// signed (a signer may be a KMS call) or anything is sent
describe('createDpopFetch: a request URL a proof cannot be made for', () => {
	let key: DpopKey;
	beforeAll(async () => {
		key = await generateDpopKey();
	});

	const setup = () => {
		const sign = vi.fn(key.sign);
		const fetch = vi.fn<FetchFunction>(async () => new Response('ok'));
		const dpopFetch = createDpopFetch({ key: { ...key, sign } as DpopKey, fetch });
		return { sign, fetch, dpopFetch };
	};

	it.each([
		['an ftp: URL', 'ftp://pds.example/xrpc/x?secret', 'must be an absolute http(s) URL, got "ftp:"'],
		['an ftp: URL object', new URL('ftp://pds.example/x'), 'must be an absolute http(s) URL, got "ftp:"'],
		['a file: URL', 'file:///etc/passwd', 'must be an absolute http(s) URL, got "file:"'],
		[
			'an https URL with credentials',
			'https://alice:hunter2@pds.example/xrpc/x',
			'must not contain credentials (a user name or password)',
		],
		[
			'an https URL with a user name alone',
			new URL('https://alice@pds.example/'),
			'must not contain credentials (a user name or password)',
		],
		[
			'an ftp: URL with credentials',
			'ftp://alice:hunter2@pds.example/',
			'must be an absolute http(s) URL, got "ftp:"',
		],
	])('refuses %s with a TypeError, signing and sending nothing', async (_label, url, problem) => {
		const { sign, fetch, dpopFetch } = setup();

		const error = await dpopFetch(url, { headers: { authorization: 'DPoP token' } }).catch((err) => err);

		expect(error).toBeInstanceOf(TypeError);
		expect(error.message).toBe(`createDpopFetch: the request URL ${problem}`);
		expect(error.message).not.toMatch(/alice|hunter2|secret/);
		expect(sign).not.toHaveBeenCalled();
		expect(fetch).not.toHaveBeenCalled();
	});

	it('refuses an ftp: Request too', async () => {
		const { sign, fetch, dpopFetch } = setup();
		await expect(dpopFetch(new Request('ftp://pds.example/x'))).rejects.toThrow(
			new TypeError('createDpopFetch: the request URL must be an absolute http(s) URL, got "ftp:"'),
		);
		expect(sign).not.toHaveBeenCalled();
		expect(fetch).not.toHaveBeenCalled();
	});

	it('still signs and sends an http(s) URL', async () => {
		const { sign, fetch, dpopFetch } = setup();
		expect((await dpopFetch('https://pds.example/xrpc/x')).status).toBe(200);
		expect(sign).toHaveBeenCalledTimes(1);
		expect(fetch).toHaveBeenCalledTimes(1);
	});
});
