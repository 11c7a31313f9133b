// the client's `now` is its one clock: the servers' metadata it caches go stale by it too, not by
// the system clock beside it
import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import {
	type createTestClient,
	type TestClock,
	type TestOAuthServer,
	useTestServer,
} from './test-utils/setup.ts';

const AS_METADATA_PATH = '/.well-known/oauth-authorization-server';

describe("the client's clock and the metadata cache", () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	let clock: TestClock;
	let makeClient: typeof createTestClient;

	useTestServer((env) => {
		({ server, alice, clock } = env);
		makeClient = env.createTestClient;
	});

	it("fetches the authorization server's metadata again once it is stale by the client's clock", async () => {
		const asked: string[] = [];
		const { client } = await makeClient(server, {
			fetch: (input, init) => {
				asked.push(new URL(input instanceof Request ? input.url : input).pathname);
				return globalThis.fetch(input, init);
			},
		});
		const metadataReads = () => asked.filter((path) => path === AS_METADATA_PATH).length;

		await client.authorize({ target: { type: 'account', identifier: alice.handle } });
		expect(metadataReads()).toBe(1);

		// within the cache's minute by the client's clock: the cached copy serves
		clock.advance(30_000);
		await client.authorize({ target: { type: 'account', identifier: alice.handle } });
		expect(metadataReads()).toBe(1);

		// two minutes on by the client's clock: the cached copy is stale, and is fetched again
		clock.advance(120_000);
		await client.authorize({ target: { type: 'account', identifier: alice.handle } });
		expect(metadataReads()).toBe(2);
	});
});
