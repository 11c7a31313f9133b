import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type RawServer, startRawServer } from './test-utils/raw-server.ts';

describe('createNodeFetch: a request aborted before node:http gives it a socket', () => {
	let server: RawServer;
	beforeAll(async () => {
		// reads the request and never answers it
		server = await startRawServer(() => {});
	});
	afterAll(() => server.close());

	it('closes the connection opened for it, on every Node version', async () => {
		const fetch = createNodeFetch({ allowPrivateNetwork: true });
		// the first request sets the transport up (an await): aborted at once, it is refused before
		// it is made. those after it are made in the call itself (a URL, no body), so the abort
		// comes in the tick before node:http hands them the new socket
		const first = new AbortController();
		const settled = fetch(`${server.origin}/`, { signal: first.signal }).catch((e: Error) => e.name);
		first.abort();
		expect(await settled).toBe('AbortError');

		const names = [];
		for (let i = 0; i < 20; i++) {
			const controller = new AbortController();
			const fetched = fetch(`${server.origin}/`, { signal: controller.signal }).catch((e: Error) => e.name);
			controller.abort();
			names.push(await fetched);
		}

		expect(new Set(names)).toEqual(new Set(['AbortError']));
		// time for a loopback connect to be accepted. Node 24 put each such socket, still connecting,
		// in the agent's keep-alive pool (Node 20 and 22 closed it): 19 connections stayed open for
		// the idle timeout, that no request had asked for
		await new Promise((resolve) => setTimeout(resolve, 300));
		expect(server.open).toBe(0);
	});
});
