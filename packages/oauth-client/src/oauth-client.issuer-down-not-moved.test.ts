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

const PR = '/.well-known/oauth-protected-resource';
const AS = '/.well-known/oauth-authorization-server';

// a refresh resolves the account's identity before it reads its issuer's metadata (a move is found
// while the old issuer is down); an account that did not move, on a host that is both its PDS and
// its issuer (self-hosted), down, still gets that server's own error, not an identity failure
describe('a refresh while a self-hosted PDS and issuer are down, the account not moved', () => {
	let server: TestOAuthServer;
	let alice: TestAccount;
	let clock: TestClock;
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, clock, createTestClient } = env));

	const downFetch = (hosts: () => string[]) => {
		const state = { down: false, pdsRequests: 0 };
		const fetchImpl: typeof fetch = async (input, init) => {
			const url = String(input instanceof Request ? input.url : input);
			if (url === `${server.pdsUrl}${PR}`) state.pdsRequests += 1;
			if (state.down && hosts().some((h) => url === h)) throw new TypeError('fetch failed');
			return fetch(input, init);
		};
		return { state, fetch: fetchImpl };
	};

	it('fails as a network failure of the authorization server', async () => {
		const f = downFetch(() => [`${server.pdsUrl}${PR}`, `${server.issuer}${AS}`]);
		const { client } = await createTestClient(server, { fetch: f.fetch });
		const { session } = await signIn(server, client, alice.did as Did);
		clock.advance(120_000);
		f.state.down = true;
		const failed = await session.refresh().catch((err: unknown) => err);
		expect(failed).toBeInstanceOf(OAuthTransientError);
		expect(failed).toMatchObject({ kind: 'network' });
		expect((failed as Error).message).toMatch(/^the authorization server .* could not be reached/);
	});
});
