import type { Did } from '@atcute/lexicons';
import { generatePrivateKey } from '@atcute/oauth-keys';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';

import { OAuthResponseError } from './errors.ts';
import {
	createTestClient,
	type TestClock,
	type TestOAuthServer,
	testClock,
	useTestServer,
} from './test-utils/setup.ts';

// a key rotation's second step done too soon: the new key went first in the keyset while the
// authorization server still holds the JWKS it read before (the reference PDS keeps it 10 minutes)
describe('OAuthClient.authorize when the server refuses the first client key', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	let serverClock: TestClock;

	useTestServer((env) => ({ server, alice, clock: serverClock } = env));

	/** the reasons of the server's refusals, each once (a refusal for the clock is sent again once). */
	const refusals = () => [
		...new Set(server.stats.rejections.map((r) => `${r.path} ${r.error}: ${r.reason}`)),
	];

	/** a client whose keyset is [next, main], at a server that knows only `known` of them. */
	const rotatingClient = async (known: ('main' | 'next')[]) => {
		const next = await generatePrivateKey('next');
		const main = await generatePrivateKey('main');
		const test = await createTestClient(server, { keyset: [next, main] });
		const keys = test.client.metadata.jwks!.keys.filter((key) => known.includes(key.kid as 'main' | 'next'));
		server.registerClient({ ...test.client.metadata, jwks: { keys } });
		return { ...test, next, main };
	};

	it('pushes the sign-in again with the next key, and the session stays bound to it', async () => {
		const { client, states, sessions, main } = await rotatingClient(['main']);
		const bound = {
			method: 'private_key_jwt',
			kid: 'main',
			jkt: await calculateJwkThumbprint(main.publicJwk as JWK, 'sha256'),
		};
		const { url } = await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });

		expect(refusals()).toEqual([
			expect.stringMatching(/^\/oauth\/par invalid_client: no key with kid "next"/),
		]);
		expect(server.stats.par).toBe(1);
		// the callback signs with the key the request was pushed with: the state names it
		const [state] = [...states.map.values()];
		expect(state!.authMethod).toEqual(bound);

		const params = await server.authorize(url, { did: alice.did });
		const { session } = await client.callback(params);
		expect(sessions.map.get(alice.did)!.authMethod).toEqual(bound);
		// a refresh authenticates with the same key: the server holds the grant to it
		await session.refresh();
		expect(server.stats.token.refresh_token).toBe(1);
		expect(refusals()).toHaveLength(1);
	});

	it('signs in with the first key, once, at a server that knows it', async () => {
		const { client, states, next } = await rotatingClient(['main', 'next']);
		await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		expect(server.stats.par).toBe(1);
		expect([...states.map.values()][0]!.authMethod).toEqual({
			method: 'private_key_jwt',
			kid: 'next',
			jkt: await calculateJwkThumbprint(next.publicJwk as JWK, 'sha256'),
		});
		server.assertNoRejections();
	});

	it('throws the refusal of the first key when every key is refused, and keeps no state', async () => {
		const { client, states } = await rotatingClient([]);
		const error = await client
			.authorize({ target: { type: 'account', identifier: 'alice.test' } })
			.catch((e: unknown) => e);
		expect(error).toBeInstanceOf(OAuthResponseError);
		expect(error).toMatchObject({ endpoint: 'par', error: 'invalid_client' });
		expect((error as Error).message).toContain('"next"');
		expect(refusals()).toEqual([
			expect.stringContaining('no key with kid "next"'),
			expect.stringContaining('no key with kid "main"'),
		]);
		expect(states.map.size).toBe(0);
	});

	it('tries no other key for a refusal that is not about the client', async () => {
		const next = await generatePrivateKey('next');
		const main = await generatePrivateKey('main');
		let pushes = 0;
		// a server that refuses the request itself, whichever key signs it
		const refusing: typeof fetch = async (input, init) => {
			if (new URL(String(input instanceof Request ? input.url : input)).pathname === '/oauth/par') {
				pushes += 1;
				return Response.json({ error: 'invalid_request', error_description: 'refused' }, { status: 400 });
			}
			return globalThis.fetch(input, init);
		};
		const { client, states } = await createTestClient(server, { keyset: [next, main], fetch: refusing });
		const error = await client
			.authorize({ target: { type: 'account', identifier: 'alice.test' } })
			.catch((e: unknown) => e);
		expect(error).toMatchObject({ endpoint: 'par', error: 'invalid_request' });
		expect(pushes).toBe(1);
		expect(states.map.size).toBe(0);
	});

	it('falls back only to keys of the algorithm the server takes', async () => {
		const next = await generatePrivateKey('next');
		const other = await generatePrivateKey('other', 'ES384');
		const { client } = await createTestClient(server, { keyset: [next, other] });
		server.registerClient({ ...client.metadata, jwks: { keys: [] } });
		const error = await client
			.authorize({ target: { type: 'account', identifier: 'alice.test' } })
			.catch((e: unknown) => e);
		expect(error).toMatchObject({ endpoint: 'par', error: 'invalid_client' });
		expect(refusals()).toEqual([expect.stringContaining('no key with kid "next"')]);
	});

	it('settles at the caller’s abort when the store stalls while the state is stored again for the next key', async () => {
		const { client, states } = await rotatingClient(['main']);
		const controller = new AbortController();
		const realSet = states.set.bind(states);
		let sets = 0;
		// the store's connection drops after the first write: every call from then on waits
		states.set = (key, value) => {
			sets += 1;
			if (sets === 1) return realSet(key, value);
			setTimeout(() => controller.abort(new Error('the visitor left')), 10);
			return new Promise<void>(() => {});
		};
		states.delete = () => new Promise<void>(() => {});
		const outcome = await Promise.race([
			client
				.authorize({ target: { type: 'account', identifier: 'alice.test' }, signal: controller.signal })
				.then(
					() => 'resolved',
					(e: unknown) => `rejected: ${(e as Error).message}`,
				),
			new Promise((resolve) => setTimeout(() => resolve('still pending 2 s after the abort'), 2_000)),
		]);
		expect(outcome).toBe('rejected: the visitor left');
		expect(sets).toBe(2);
	});

	// a refusal that names the key unknown is not taken for the clock: sent again on the server's
	// clock, its second refusal would have made the client give up that clock for the next key
	it.each([
		['behind', -30_000],
		['ahead of', 90_000],
	])('falls back at a server whose clock is %s ours, once per key', async (_, skew) => {
		serverClock.advance(skew);
		try {
			const pushes: string[] = [];
			const recording: typeof fetch = async (input, init) => {
				const url = new URL(String(input instanceof Request ? input.url : input));
				const response = await globalThis.fetch(input, init);
				if (url.pathname === '/oauth/par' && response.status !== 400) {
					const assertion = new URLSearchParams(String(init?.body)).get('client_assertion')!;
					const { kid } = JSON.parse(Buffer.from(assertion.split('.')[0]!, 'base64url').toString());
					const { error } = response.ok ? { error: '' } : await response.clone().json();
					pushes.push(`${kid} ${response.status} ${error}`.trim());
				}
				return response;
			};
			const next = await generatePrivateKey('next');
			const main = await generatePrivateKey('main');
			// the client on its own clock, not the server's
			const { client, states } = await createTestClient(server, {
				keyset: [next, main],
				fetch: recording,
				clock: testClock(),
			});
			server.registerClient({
				...client.metadata,
				jwks: { keys: client.metadata.jwks!.keys.filter((k) => k.kid === 'main') },
			});
			await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
			expect([...states.map.values()][0]!.authMethod).toMatchObject({ kid: 'main' });
			// the unknown key refused once (after a refusal for the clock, when the server is ahead),
			// then the next key taken
			expect(pushes.filter((push) => push === 'next 401 invalid_client')).toHaveLength(1);
			expect(pushes.at(-1)).toBe('main 201');
		} finally {
			serverClock.advance(-skew);
		}
	});
});
