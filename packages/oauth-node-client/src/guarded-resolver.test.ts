import { PlcDidDocumentResolver, WellKnownHandleResolver } from '@atcute/identity-resolver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { PrivateNetworkError } from './private-network-error.ts';
import { type LoopbackServer, startHttpServer } from './test-utils/loopback-servers.ts';

/** the error, or the first cause in its chain, that is a PrivateNetworkError. */
const guardOf = (error: unknown): PrivateNetworkError | undefined => {
	for (let e = error; e instanceof Error; e = e.cause) {
		if (e instanceof PrivateNetworkError) return e;
	}
	return undefined;
};

describe('the README pattern: identity resolvers given the guarded transport', () => {
	let plc: LoopbackServer;
	beforeAll(async () => {
		plc = await startHttpServer((_request, response) => response.writeHead(404).end());
	});
	afterAll(() => plc.close());

	it('a PLC directory on a private address is refused', async () => {
		const resolver = new PlcDidDocumentResolver({ apiUrl: plc.origin, fetch: createNodeFetch() });
		const error = await resolver.resolve('did:plc:ewvi7nxzyoun6zhxrhs64oiz').catch((e) => e);
		expect(guardOf(error)).toMatchObject({ host: 'localhost', kind: 'loopback' });
		expect(plc.requests).toHaveLength(0);
	});

	it('a handle whose well-known lookup points at loopback is refused', async () => {
		const resolver = new WellKnownHandleResolver({ fetch: createNodeFetch() });
		const error = await resolver.resolve('localhost' as `${string}.${string}`).catch((e) => e);
		expect(guardOf(error)).toMatchObject({ host: 'localhost', kind: 'loopback' });
	});

	it('the unguarded default lets the same request through (what the guard is for)', async () => {
		const resolver = new PlcDidDocumentResolver({ apiUrl: plc.origin });
		const error = await resolver.resolve('did:plc:ewvi7nxzyoun6zhxrhs64oiz').catch((e) => e);
		expect(guardOf(error)).toBeUndefined();
		expect(plc.requests).toHaveLength(1);
	});
});
