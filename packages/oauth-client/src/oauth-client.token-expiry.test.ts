import type { LocalActorResolver } from '@atcute/identity-resolver';
import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import {
	actorResolverFor,
	createTestClient,
	signIn,
	type TestClock,
	type TestOAuthServer,
	testClock,
	useTestServer,
} from './test-utils/setup.ts';

/** how long the clock jumps after the token response: a slow PLC, a slow answer. */
const DELAY_MS = 7_000;

/**
 * a fetch that notes the clock as each token request leaves, and the `expires_in` it brings back;
 * while `slow` is on, the clock then jumps `DELAY_MS` after the token response.
 */
const tokenFetch = (clock: TestClock) => {
	const seen: { sentAt: number; expiresIn: number }[] = [];
	const state = { slow: false };
	const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
		const isToken = String(input instanceof Request ? input.url : input).endsWith('/oauth/token');
		const sentAt = clock.now();
		const response = await globalThis.fetch(input, init);
		if (isToken && response.ok) {
			const { expires_in } = (await response.clone().json()) as { expires_in: number };
			seen.push({ sentAt, expiresIn: expires_in });
			if (state.slow) clock.advance(DELAY_MS);
		}
		return response;
	};
	return { fetch, seen, state };
};

describe('OAuthClient token expiry', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => ({ server, alice } = env));

	it('counts a sign-in’s token lifetime from the token request, not from after a slow identity check', async () => {
		const clock = testClock();
		const { fetch, seen } = tokenFetch(clock);
		const inner = actorResolverFor(server);
		let slow = false;
		// no DID document resolver of its own: the callback re-resolves through `resolve`, which
		// takes DELAY_MS on the client's clock once the code is exchanged
		const actorResolver = {
			resolve: async (...args: Parameters<LocalActorResolver['resolve']>) => {
				if (slow) clock.advance(DELAY_MS);
				return inner.resolve(...args);
			},
		} as unknown as LocalActorResolver;
		const { client, sessions } = await createTestClient(server, { clock, fetch, actorResolver });
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
		const params = await server.authorize(url, { did: alice.did });
		const before = clock.now();
		slow = true;
		await client.callback(params);

		const { tokenSet } = sessions.map.get(alice.did)!;
		const [{ sentAt, expiresIn }] = seen as [{ sentAt: number; expiresIn: number }];
		// read just before the request left: not later than the fetch saw it go
		expect(tokenSet.issued_at).toBeGreaterThanOrEqual(before);
		expect(tokenSet.issued_at).toBeLessThanOrEqual(sentAt);
		expect(tokenSet.expires_at).toBe(tokenSet.issued_at! + expiresIn * 1000);
	});

	it('counts a refreshed token’s lifetime from the refresh request, not from after its answer', async () => {
		const clock = testClock();
		const { fetch, seen, state } = tokenFetch(clock);
		const { client, sessions } = await createTestClient(server, { clock, fetch });
		await signIn(server, client, alice.did);
		const before = clock.now();
		state.slow = true;
		await client.restore(alice.did, { refresh: true });

		const { tokenSet } = sessions.map.get(alice.did)!;
		const { sentAt, expiresIn } = seen.at(-1)!;
		expect(seen).toHaveLength(2);
		expect(tokenSet.issued_at).toBeGreaterThanOrEqual(before);
		expect(tokenSet.issued_at).toBeLessThanOrEqual(sentAt);
		expect(tokenSet.expires_at).toBe(tokenSet.issued_at! + expiresIn * 1000);
	});
});
