// an app's `fetch` that reads each answer (to log it) and hands back the Response itself, not a
// clone: every answer reaches the library already read. that is the app's mistake, the same on
// every retry: it must be told so, never "could not fetch" or "broke off", which are transient and
// send the app looking at the server
import type { Did } from '@atcute/lexicons';
import { DiscoveryError } from '@atcute/oauth-discovery';
import { describe, expect, it } from 'vitest';

import { OAuthTransientError } from './errors.ts';
import { createTestClient, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/** a fetch that reads the body of every answer whose URL `reads` picks before handing it back. */
const readingFetch =
	(reads: (url: string) => boolean): typeof fetch =>
	async (input, init) => {
		const response = await globalThis.fetch(input, init);
		const url = input instanceof Request ? input.url : String(input);
		if (reads(url)) await response.text();
		return response;
	};

describe('a fetch that hands back answers it has read', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => {
		({ server, alice } = env);
	});

	it('fails authorize() with a refusal that names the fetch and is not transient, before anything is pushed', async () => {
		const { client, states } = await createTestClient(server, { fetch: readingFetch(() => true) });

		const error = await client
			.authorize({ target: { type: 'account', identifier: alice.handle } })
			.catch((err: unknown) => err);
		expect(error).toBeInstanceOf(DiscoveryError);
		expect((error as DiscoveryError).code).toBe('refused');
		expect((error as DiscoveryError).transient).toBe(false);
		expect((error as Error).message).toMatch(/handed back a Response whose body was already read/);
		expect((error as Error).message).toMatch(/response\.clone\(\)/);
		expect(server.stats.par).toBe(0);
		expect(states.map.size).toBe(0);
	});

	it("fails the token request with the fetch's mistake, not as an answer that broke off", async () => {
		const { client } = await createTestClient(server, {
			fetch: readingFetch((url) => new URL(url).pathname.endsWith('/token')),
		});
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.handle } });

		const error = await client
			.callback(await server.authorize(url, { did: alice.did }))
			.catch((err: unknown) => err);
		expect(error).not.toBeInstanceOf(OAuthTransientError);
		expect(error).toBeInstanceOf(TypeError);
		expect((error as { transient?: unknown }).transient).toBe(false);
		expect((error as Error).message).toMatch(/handed back a Response whose body was already read/);
	});
});
