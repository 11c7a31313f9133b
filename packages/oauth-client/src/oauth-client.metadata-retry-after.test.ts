import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { OAuthTransientError } from './errors.ts';
import {
	signIn,
	type TestAccount,
	type TestClock,
	type TestOAuthServer,
	type TestServerEnv,
	useTestServer,
} from './test-utils/setup.ts';

/** at most `ms`, and less only by what the test took: its clock runs on from real time. */
const about = (ms: number) => expect.toSatisfy((left: number) => left <= ms && left > ms - 10_000);

/**
 * a fetch on which the metadata document at `path` (the PDS's or the authorization server's)
 * answers 503 with `Retry-After: 60` while `down` is set, counting every request for it.
 */
const metadataDownFetch = (origin: () => string, path: string) => {
	const state = { down: false, requests: 0 };
	const fetchImpl: typeof fetch = async (input, init) => {
		const url = String(input instanceof Request ? input.url : input);
		if (url === `${origin()}${path}`) {
			state.requests += 1;
			if (state.down) return new Response('busy', { status: 503, headers: { 'retry-after': '60' } });
		}
		return fetch(input, init);
	};
	return { state, fetch: fetchImpl };
};

// the token endpoint's Retry-After holds an account's refreshes back; a metadata document that asks
// to wait before a refresh (read afresh each time for the PDS, past its cache for the server) must
// too, or each call on the account asks the busy server again at once
describe('a refresh whose metadata answered 503 with Retry-After', () => {
	let server: TestOAuthServer;
	let alice: TestAccount;
	let clock: TestClock;
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, clock, createTestClient } = env));

	const cases = [
		[
			'the PDS',
			() => server.pdsUrl,
			'/.well-known/oauth-protected-resource',
			'identity',
			0,
			() => server.pdsUrl,
		],
		[
			'the authorization server',
			() => server.issuer,
			'/.well-known/oauth-authorization-server',
			'server_error',
			120_000,
			() => server.issuer,
		],
	] as const;

	for (const [label, origin, path, kind, staleAfter, asker] of cases) {
		it(`reports the wait of ${label}'s metadata and asks it nothing more until the wait is over`, async () => {
			const metadata = metadataDownFetch(origin, path);
			const { client } = await createTestClient(server, { fetch: metadata.fetch });
			const { session } = await signIn(server, client, alice.did as Did);
			// past the discovery cache's minute: the server's metadata is fetched anew
			clock.advance(staleAfter);
			metadata.state.down = true;
			const before = metadata.state.requests;

			const failed = await session.refresh().catch((err: unknown) => err);
			expect(failed).toBeInstanceOf(OAuthTransientError);
			expect(failed).toMatchObject({ kind, retryAfterMs: about(60_000) });
			expect(metadata.state.requests).toBe(before + 1);

			clock.advance(20_000);
			const held = await session.refresh().catch((err: unknown) => err);
			expect(held).toBeInstanceOf(OAuthTransientError);
			expect(held).toMatchObject({ retryAfterMs: about(40_000) });
			// the message names who asked to wait
			expect((held as Error).message).toContain(`the server at ${new URL(asker()).origin} asked to wait`);
			expect(metadata.state.requests).toBe(before + 1);

			clock.advance(40_000);
			metadata.state.down = false;
			await session.refresh();
			expect(server.stats.token.refresh_token).toBe(1);
		});
	}
});
