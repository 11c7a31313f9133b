import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type LoopbackServer, startHttpServer } from './test-utils/loopback-servers.ts';

const local = createNodeFetch({ allowPrivateNetwork: true });

describe('createNodeFetch: header values trimmed of HTTP whitespace, as the global fetch trims them', () => {
	let server: LoopbackServer;
	beforeAll(async () => {
		// answers with the value of the x-token line it got
		server = await startHttpServer((request, response) => {
			response.end(String(request.headers['x-token']));
		});
	});
	afterAll(() => server.close());

	/** what the server got, or the failure. */
	const outcome = async (fetcher: typeof fetch, headers: HeadersInit) => {
		try {
			return await (await fetcher(`${server.origin}/`, { headers })).text();
		} catch (error) {
			return `failed: ${(error as Error).name}`;
		}
	};

	const CASES: [string, () => HeadersInit][] = [
		// a token read from a file or an environment variable, with its line's end
		['a record whose value ends with a newline', () => ({ 'x-token': 'secret\n' })],
		['a record whose value is wrapped in CRLFs', () => ({ 'x-token': '\r\nsecret\r\n' })],
		['a list whose value ends with a newline', () => [['X-Token', 'secret\n']]],
		['a record whose value has spaces and tabs around it', () => ({ 'x-token': ' \tsecret\t ' })],
	];

	it.each(CASES)('%s', async (_label, make) => {
		const ours = await outcome(local, make());
		expect(ours).toBe(await outcome(globalThis.fetch, make()));
		expect(ours).toBe('secret');
	});

	it('still refuses a newline inside a value, as fetch does', async () => {
		await expect(local(`${server.origin}/`, { headers: { 'x-token': 'a\nb' } })).rejects.toThrow(TypeError);
	});
});
