import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { pathOf, settled } from './test-utils/promises.ts';
import { createTestClient, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/**
 * `callback(params, { signal })` aborted while its token request runs: the request runs to its
 * end, but a refusal the server makes before it looks at the code (`use_dpop_nonce`, a proof
 * stamped on a clock it does not take) is not sent again for a caller who has gone. each retry is
 * a request of its own, with a time limit of its own (three times `timeout`): made after the
 * abort, they held the caller two more of them, and spent the code for tokens only to revoke them.
 */
describe('OAuthClient.callback aborted during a token request the server refuses for its proof', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => {
		({ server, alice } = env);
	});

	it.each<[string, () => void]>([
		[
			'a DPoP nonce',
			() => {
				server.behaviour.rejectEveryNonce = true;
			},
		],
		[
			"the server's clock",
			() => {
				server.behaviour.clockSkewSeconds = 600;
			},
		],
	])('sends no retry for %s once the caller is gone, and puts the state back', async (_, refuse) => {
		const controller = new AbortController();
		const reason = new Error('deadline');
		let tokenRequests = 0;
		const { client } = await createTestClient(server, {
			fetch: (input, init) => {
				if (pathOf(input).endsWith('/token')) {
					tokenRequests++;
					controller.abort(reason);
				}
				return globalThis.fetch(input, init);
			},
		});
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.handle } });
		const params = await server.authorize(url, { did: alice.did });

		refuse();
		expect(await settled(client.callback(params, { signal: controller.signal }))).toBe(reason);
		// the refused attempt only: no retry after the abort
		expect(tokenRequests).toBe(1);
		expect(server.stats.token.authorization_code).toBe(0);

		// that refusal spent nothing: the same callback (a reload) completes once the server takes proofs
		server.reset();
		expect((await client.callback(params)).session.did).toBe(alice.did);
	});
});
