import {
	CompositeDidDocumentResolver,
	LocalActorResolver,
	PlcDidDocumentResolver,
	WebDidDocumentResolver,
	WellKnownHandleResolver,
} from '@atcute/identity-resolver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { IdentityResolutionError, MemoryStore } from './index.ts';
import { OAuthClient } from './oauth-client.ts';
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

describe('OAuthClient over the README pattern', () => {
	it('reports an identity the guard refused as a permanent IdentityResolutionError (refused)', async () => {
		const server = await startHttpServer((_request, response) => response.writeHead(404).end());
		try {
			const fetch = createNodeFetch();
			const oauth = new OAuthClient({
				metadata: { redirect_uris: ['http://127.0.0.1/cb'], scope: 'atproto' },
				stores: { sessions: new MemoryStore(), states: new MemoryStore() },
				fetch,
				// did:web:localhost is for testing (allowHttp); the resolver's fetch keeps its guard
				allowHttp: true,
				actorResolver: new LocalActorResolver({
					handleResolver: new WellKnownHandleResolver({ fetch }),
					didDocumentResolver: new CompositeDidDocumentResolver({
						methods: {
							plc: new PlcDidDocumentResolver({ fetch }),
							web: new WebDidDocumentResolver({ fetch }),
						},
					}),
				}),
			} as unknown as ConstructorParameters<typeof OAuthClient>[0]);

			const error = await oauth
				.authorize({ target: { type: 'account', identifier: `did:web:localhost%3A${server.port}` } })
				.catch((e) => e);

			expect(error).toBeInstanceOf(IdentityResolutionError);
			expect(error).toMatchObject({ reason: 'refused', transient: false });
			expect(guardOf(error)).toMatchObject({ host: 'localhost', kind: 'loopback' });
			expect(server.requests).toHaveLength(0);
		} finally {
			await server.close();
		}
	});
});
