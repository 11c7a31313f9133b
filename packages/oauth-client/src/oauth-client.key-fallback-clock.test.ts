// a server on another clock that also refuses the first client key (its JWKS holds other key
// material under that kid): the refusal of the key, on the retry stamped on the server's clock,
// is not about the clock, and must not put the server back on ours for 10 minutes
import type { Did } from '@atcute/lexicons';
import { generatePrivateKey } from '@atcute/oauth-keys';
import { describe, expect, it } from 'vitest';

import { createTestClient, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

describe('key fallback at a server whose clock differs from ours', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => ({ server, alice } = env));

	for (const skew of [90])
		it(`pushes with the next key at a server ${skew} s off, and keeps its clock (skew ${skew})`, async () => {
			const next = await generatePrivateKey('next');
			const main = await generatePrivateKey('main');
			const { client } = await createTestClient(server, { keyset: [next, main] });
			// the server holds other key material under "next" (a kid given to a new key too soon)
			const { client: shadow } = await createTestClient(server, {
				keyset: [await generatePrivateKey('next')],
			});
			const keys = [
				...shadow.metadata.jwks!.keys,
				...client.metadata.jwks!.keys.filter((k) => k.kid === 'main'),
			];
			server.registerClient({ ...client.metadata, jwks: { keys } });
			server.behaviour.clockSkewSeconds = skew;

			const first = await client.authorize({ target: { type: 'account', identifier: alice.did } }).then(
				() => 'ok',
				(e: Error) => `${e.name}: ${e.message.slice(0, 90)}`,
			);
			// and the server's keys fixed: a sign-in right after
			server.registerClient(client.metadata);
			const second = await client.authorize({ target: { type: 'account', identifier: alice.did } }).then(
				() => 'ok',
				(e: Error) => `${e.name}: ${e.message.slice(0, 90)}`,
			);
			expect({ first, second }).toEqual({ first: 'ok', second: 'ok' });
			expect(server.stats.par).toBe(2);
		});
});
