import { subscribe, unsubscribe } from 'node:diagnostics_channel';

import type { Did } from '@atcute/lexicons';
import { startTestOAuthServer, type TestOAuthServer } from '@atcute-oauth/test-oauth-server';
import {
	type AbortMoment,
	type AbortSteps,
	type AbortSweep,
	describeRequest,
	steppedBody,
	steppedStore,
	sweepAborts,
} from '@atcute-oauth/test-oauth-server/abort-sweep';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
	createNodeFetch,
	generatePrivateKey,
	MemoryStore,
	OAUTH_TRACING_CHANNELS,
	type OAuthClient,
	type OAuthSession,
	type PrivateKey,
	type StoredSession,
	type StoredState,
} from './index.ts';
import { createTestServerClient } from './test-utils/test-server-client.ts';

/** the reason the sweep aborts with: an Error naming the step, unless a test wants another value. */
let reasonFor: ((name: string, moment: AbortMoment) => unknown) | undefined;

interface Harness {
	client: OAuthClient;
	sessions: MemoryStore<string, StoredSession>;
	states: MemoryStore<string, StoredState>;
}

describe('the facade, aborted at each step of a call (Node transport, traced)', { timeout: 240_000 }, () => {
	let server: TestOAuthServer;
	let alice: { did: Did };
	let key: PrivateKey;
	const subscriber = () => {};
	beforeAll(async () => {
		server = await startTestOAuthServer();
		alice = server.createAccount({ handle: 'alice.test' }) as { did: Did };
		key = await generatePrivateKey('main');
		// a subscriber on every channel: the traced paths run
		for (const name of Object.values(OAUTH_TRACING_CHANNELS)) subscribe(`tracing:${name}:start`, subscriber);
	});
	afterAll(async () => {
		for (const name of Object.values(OAUTH_TRACING_CHANNELS))
			unsubscribe(`tracing:${name}:start`, subscriber);
		await server.close();
	});

	beforeEach(() => {
		server.reset();
	});

	const transport = createNodeFetch({ allowPrivateNetwork: true });
	const createClient = async (steps: AbortSteps): Promise<Harness> => {
		const sessions = new MemoryStore<string, StoredSession>();
		const states = new MemoryStore<string, StoredState>();
		const fetch = async (input: string | URL | Request, init?: RequestInit) => {
			const name = describeRequest(input, init);
			const response = await steps.around(`fetch ${name}`, () => transport(input, init));
			return steppedBody(steps, name, response);
		};
		const client = await createTestServerClient(server, {
			keyset: [key],
			stores: {
				sessions: steppedStore(steps, 'sessions', sessions),
				states: steppedStore(steps, 'states', states),
			},
			fetch,
		});
		return { client, sessions, states };
	};

	const activeGrants = () => server.sessions(alice.did, { active: true });

	/** runs `scenario` once with no abort to learn its steps, then once per step and moment. */
	const sweep = (
		scenario: Pick<AbortSweep<Harness, unknown>, 'prepare' | 'run' | 'check'>,
		// every moment by default; a sweep of odd abort reasons needs only one to reach every step
		moments?: readonly AbortMoment[],
	): Promise<string[]> =>
		sweepAborts({
			...scenario,
			harness: (steps) => {
				server.revokeAllTokensFor(alice.did);
				return createClient(steps);
			},
			close: (h) => h.client.close(),
			moments,
			reasonFor,
		});

	const signIn = async (client: OAuthClient) => {
		const { url } = await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		return client.callback(await server.authorize(url, { did: alice.did }));
	};

	it.each([
		['null', null],
		['undefined (an AbortError)', undefined],
	])('every call rejects with a reason of %s as it is', async (_name, reason) => {
		reasonFor = () => reason;
		try {
			const failures = await sweep(
				{
					prepare: async (h) => {
						await signIn(h.client);
						server.expireAccessTokens(alice.did);
						const session = await h.client.restore(alice.did, { refresh: false });
						const { url } = await h.client.authorize({
							target: { type: 'account', identifier: 'alice.test' },
						});
						return { session, params: await server.authorize(url, { did: alice.did }) };
					},
					run: async (h, prepared, signal) => {
						const { session, params } = prepared as { session: OAuthSession; params: URLSearchParams };
						const response = await session.handle('/xrpc/com.atproto.server.getSession', { signal });
						await response.body?.cancel().catch(() => {});
						await h.client.authorize({ target: { type: 'account', identifier: 'alice.test' }, signal });
						await h.client.callback(params, { signal });
					},
					check: async () => {},
				},
				['pending'],
			);
			expect(failures).toEqual([]);
		} finally {
			reasonFor = undefined;
		}
	});

	it('authorize(): rejects with the reason and keeps no state', async () => {
		const failures = await sweep({
			prepare: async () => undefined,
			run: (h, _, signal) =>
				h.client.authorize({ target: { type: 'account', identifier: 'alice.test' }, signal }),
			check: async (h, _, result) => {
				await h.client.close();
				const left = h.states.size;
				if (!result.ok && left !== 0) throw new Error('a state was left stored');
			},
		});
		expect(failures).toEqual([]);
	});

	it('callback(): rejects with the reason, stores the session or nothing', async () => {
		const failures = await sweep({
			prepare: async (h) => {
				const { url } = await h.client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
				return server.authorize(url, { did: alice.did });
			},
			run: (h, params, signal) => h.client.callback(params as URLSearchParams, { signal }),
			check: async (h, params, result) => {
				if (!result.ok) {
					if ((await h.sessions.get(alice.did)) !== undefined) throw new Error('a session was stored');
					if (h.states.size === 1) {
						await h.client.callback(params as URLSearchParams);
					} else {
						if (activeGrants().length !== 0) throw new Error('a grant was left active');
						await signIn(h.client);
					}
				}
				const session = await h.client.restore(alice.did, { refresh: false });
				const response = await session.handle('/xrpc/com.atproto.server.getSession');
				await response.body?.cancel();
				if (response.status !== 200) throw new Error(`the session's call answered ${response.status}`);
				await h.client.close();
				if (activeGrants().length !== 1) throw new Error(`${activeGrants().length} grants active`);
			},
		});
		expect(failures).toEqual([]);
	});

	it.each(['refused', 'stream'] as const)(
		'session.handle(), %s: rejects with the reason, the refresh is stored',
		async (kind) => {
			const failures = await sweep({
				prepare: async (h) => {
					await signIn(h.client);
					server.expireAccessTokens(alice.did);
					return h.client.restore(alice.did, { refresh: false });
				},
				run: async (_, session, signal) => {
					const init: RequestInit & { duplex?: 'half' } =
						kind === 'stream'
							? {
									method: 'POST',
									headers: { 'content-type': 'application/json' },
									body: new Blob([
										JSON.stringify({ repo: alice.did, collection: 'x.y', record: {} }),
									]).stream(),
									duplex: 'half',
									signal,
								}
							: { signal };
					const path =
						kind === 'stream' ? '/xrpc/com.atproto.repo.createRecord' : '/xrpc/com.atproto.server.getSession';
					const response = await (session as OAuthSession).handle(path, init);
					await response.body?.cancel();
					return response.status;
				},
				check: async (h, session, result) => {
					if (result.ok && result.value !== 200) throw new Error(`answered ${String(result.value)}`);
					const again = await (session as OAuthSession).handle('/xrpc/com.atproto.server.getSession');
					await again.body?.cancel();
					if (again.status !== 200) throw new Error(`the next call answered ${again.status}`);
					await h.client.close();
					const stored = await h.sessions.get(alice.did);
					const active = activeGrants();
					if (active.length !== 1 || active[0]!.refreshToken !== stored?.tokenSet.refresh_token) {
						throw new Error('the stored refresh token is not the grant the server holds');
					}
				},
			});
			expect(failures).toEqual([]);
		},
	);
});
