import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type LoopbackServer, startHttpServer } from './test-utils/loopback-servers.ts';

// a short inactivityTimeout: a request whose body never comes fails in a second, not in five minutes
const local = createNodeFetch({ allowPrivateNetwork: true, inactivityTimeout: 1_000 });

describe('createNodeFetch: a byte body is the bytes it held when fetch was called, as with the global fetch', () => {
	let server: LoopbackServer;
	beforeAll(async () => {
		// answers with the body it got, and the content-length it was told
		server = await startHttpServer((request, response, body) => {
			response.end(`${body}|${request.headers['content-length']}`);
		});
	});
	afterAll(() => server.close());

	/** what the server got from each fetch. */
	const outcome = async (pending: Promise<Response>) => {
		try {
			return await (await pending).text();
		} catch (error) {
			return `failed: ${((error as Error).cause as Error | undefined)?.message}`;
		}
	};

	const fetchers: [string, typeof fetch][] = [
		['the global fetch', globalThis.fetch],
		['createNodeFetch', local],
	];

	it.each(fetchers)(
		'%s: one buffer, refilled between two calls, sends each its own bytes',
		async (_name, fetcher) => {
			// a connection in the pool, the agents made: the fast path
			await (await fetcher(`${server.origin}/warm`)).text();
			const buffer = new Uint8Array(4);
			const first = fetcher(`${server.origin}/`, { method: 'POST', body: buffer.fill(0x61) });
			const second = fetcher(`${server.origin}/`, { method: 'POST', body: buffer.fill(0x62) });

			expect([await outcome(first), await outcome(second)]).toEqual(['aaaa|4', 'bbbb|4']);
		},
	);

	it.each(fetchers)(
		'%s: an ArrayBuffer written to after the call sends what it held',
		async (_name, fetcher) => {
			await (await fetcher(`${server.origin}/warm`)).text();
			const bytes = new TextEncoder().encode('abcd');
			const pending = fetcher(`${server.origin}/`, { method: 'POST', body: bytes.buffer });
			bytes.fill(0x78);

			expect(await outcome(pending)).toBe('abcd|4');
		},
	);

	it.each(fetchers)(
		'%s: a view into a larger buffer, written to after the call, sends its own bytes only',
		async (_name, fetcher) => {
			await (await fetcher(`${server.origin}/warm`)).text();
			const whole = new TextEncoder().encode('--abcd--');
			const pending = fetcher(`${server.origin}/`, {
				method: 'POST',
				body: new DataView(whole.buffer, 2, 4),
			});
			whole.fill(0x78);

			expect(await outcome(pending)).toBe('abcd|4');
		},
	);

	it.each(fetchers)(
		'%s: a buffer transferred away after the call (to a worker) is still sent whole',
		async (_name, fetcher) => {
			await (await fetcher(`${server.origin}/warm`)).text();
			const bytes = new TextEncoder().encode('abcd');
			const pending = fetcher(`${server.origin}/`, { method: 'POST', body: bytes });
			// detaches the buffer, as postMessage to a worker does
			structuredClone(bytes.buffer, { transfer: [bytes.buffer] });

			expect(await outcome(pending)).toBe('abcd|4');
		},
	);
});
