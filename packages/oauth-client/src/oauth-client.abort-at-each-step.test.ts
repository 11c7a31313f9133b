import type { ActorResolver } from '@atcute/identity-resolver';
import type { Did } from '@atcute/lexicons';
import { MemoryDpopNonceCache } from '@atcute/oauth-dpop';
import { generatePrivateKey, type PrivateKey } from '@atcute/oauth-keys';
import {
	type AbortMoment,
	type AbortSteps,
	type AbortSweep,
	describeRequest,
	outcome,
	steppedBody,
	steppedStore,
	sweepAborts,
} from '@atcute-oauth/test-oauth-server/abort-sweep';
import { beforeEach, describe, expect, it } from 'vitest';

import { createMemoryLock, type LockFunction } from './lock.ts';
import type { OAuthClient } from './oauth-client.ts';
import type { OAuthSession } from './oauth-session.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { createRecord, streamOf } from './test-utils/create-record.ts';
import { MapStore } from './test-utils/map-store.ts';
import {
	actorResolverFor,
	createTestClient,
	signIn,
	type TestClock,
	type TestOAuthServer,
	useTestServer,
} from './test-utils/setup.ts';
import type { OAuthTracer } from './tracer.ts';

/** the reason the sweep aborts with: an Error naming the step, unless a test wants another value. */
let reasonFor: ((name: string, moment: AbortMoment) => unknown) | undefined;

/** how a sweep's client differs from the plain one. */
interface ClientVariant {
	/** a state store without `take` (get, then delete). */
	noTake?: boolean;
	/** every response body read chunk by chunk, each read a step. */
	bodySteps?: boolean;
	/** a tracer that records spans (the traced code paths). */
	traced?: boolean;
	/** the app's default lock rather than a stepped one. */
	defaultLock?: boolean;
}

interface Harness {
	client: OAuthClient;
	sessions: MapStore<StoredSession>;
	states: MapStore<StoredState>;
	steps: AbortSteps;
}

describe('an abort at each step of a call', { timeout: 120_000 }, () => {
	let server: TestOAuthServer;
	let alice: { did: Did };
	let clock: TestClock;
	let key: PrivateKey;
	useTestServer((env) => {
		server = env.server;
		alice = env.alice;
		clock = env.clock;
	});

	let createClient: (steps: AbortSteps, variant: ClientVariant) => Promise<Harness>;
	beforeEach(async () => {
		key ??= await generatePrivateKey('main');
		createClient = async (steps, variant) => {
			const sessions = new MapStore<StoredSession>();
			const states = new MapStore<StoredState>({ atomicTake: !variant.noTake });
			const lock = createMemoryLock();
			const requestLock: LockFunction = (name, fn) =>
				steps.around(
					`lock ${name.split(':')[0]}`,
					() => lock(name, (lost) => steps.around('under lock', () => fn(lost))),
					true,
				);
			const resolver = actorResolverFor(server);
			const actorResolver: ActorResolver & Record<string, unknown> = {
				resolve: (actor, options) => steps.around('resolver.resolve', () => resolver.resolve(actor, options)),
				handleResolver: {
					resolve: (handle: never, options: never) =>
						steps.around('handle.resolve', () => resolver.handleResolver.resolve(handle, options)),
				},
				didDocumentResolver: {
					resolve: (did: never, options: never) =>
						steps.around('didDocument.resolve', () => resolver.didDocumentResolver.resolve(did, options)),
				},
			};
			const cache = new MemoryDpopNonceCache();
			const dpopNonces = {
				get: (origin: string) => steps.around('nonces.get', () => cache.get(origin)),
				set: (origin: string, nonce: string) => steps.around('nonces.set', () => cache.set(origin, nonce)),
			};
			const fetch = async (input: string | URL | Request, init?: RequestInit) => {
				const name = describeRequest(input, init);
				const response = await steps.around(`fetch ${name}`, () => globalThis.fetch(input, init));
				return variant.bodySteps ? steppedBody(steps, name, response) : response;
			};
			const stepStates = steppedStore(steps, 'states', states);
			if (variant.noTake) delete (stepStates as Partial<typeof stepStates>).take;
			const tracer: OAuthTracer | undefined = variant.traced
				? { trace: async (_operation, _context, fn) => await fn() }
				: undefined;
			const { client } = await createTestClient(server, {
				key,
				clock,
				stores: {
					sessions: steppedStore(steps, 'sessions', sessions),
					states: stepStates,
					dpopNonces,
				},
				requestLock: variant.defaultLock ? undefined : requestLock,
				tracer,
				actorResolver,
				fetch,
			});
			return { client, sessions, states, steps };
		};
	});
	/** the server's grants of alice still active. */
	const activeGrants = () => server.sessions(alice.did, { active: true });

	/** runs `scenario` once with no abort to learn its steps, then once per step and moment. */
	const sweep = async (
		scenario: Pick<AbortSweep<Harness, unknown>, 'prepare' | 'run' | 'check'>,
		failures: string[],
		variant: ClientVariant = {},
		// every moment by default; a sweep of odd abort reasons needs only one to reach every step
		moments?: readonly AbortMoment[],
	) => {
		const found = await sweepAborts({
			...scenario,
			harness: (steps) => {
				server.revokeAllTokensFor(alice.did);
				return createClient(steps, variant);
			},
			close: (h) => h.client.close(),
			moments,
			reasonFor,
		});
		failures.push(...found);
	};

	it.each([
		['null', null],
		['a string', 'gone'],
	])('every call rejects with a reason of %s as it is', async (_name, reason) => {
		reasonFor = () => reason;
		try {
			const failures: string[] = [];
			await sweep(
				{
					prepare: async (h) => {
						await signIn(server, h.client, alice.did);
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
						// undici errors a body its signal aborted with an AbortError of its own for a falsy reason
						await response.body?.cancel().catch(() => {});
						await h.client.authorize({ target: { type: 'account', identifier: 'alice.test' }, signal });
						await h.client.callback(params, { signal });
					},
					check: async () => {},
				},
				failures,
				{ bodySteps: true },
				['pending'],
			);
			expect(failures).toEqual([]);
		} finally {
			reasonFor = undefined;
		}
	});

	const VARIANTS: [string, ClientVariant][] = [
		['plain', {}],
		['bodies read chunk by chunk', { bodySteps: true }],
		['a state store without take', { noTake: true }],
		['traced', { traced: true }],
		['the default lock', { defaultLock: true }],
	];

	it.each(VARIANTS.slice(0, 3))(
		'authorize(), %s: rejects with the reason and keeps no state',
		async (_name, variant) => {
			const failures: string[] = [];
			await sweep(
				{
					prepare: async () => undefined,
					run: (h, _, signal) =>
						h.client.authorize({ target: { type: 'account', identifier: 'alice.test' }, signal }),
					check: async (h, _, result) => {
						await h.client.close();
						if (!result.ok && h.states.map.size !== 0) throw new Error('a state was left stored');
						if (result.ok && h.states.map.size !== 1) throw new Error('the returned sign-in has no state');
					},
				},
				failures,
				variant,
			);
			expect(failures).toEqual([]);
		},
	);

	it('authorize() at a PDS: rejects with the reason and keeps no state', async () => {
		const failures: string[] = [];
		await sweep(
			{
				prepare: async () => undefined,
				run: (h, _, signal) =>
					h.client.authorize({ target: { type: 'pds', serviceUrl: server.pdsUrl }, signal }),
				check: async (h, _, result) => {
					await h.client.close();
					if (!result.ok && h.states.map.size !== 0) throw new Error('a state was left stored');
				},
			},
			failures,
			{ bodySteps: true },
		);
		expect(failures).toEqual([]);
	});

	const callbackSweep = (variant: ClientVariant, signedInBefore: boolean) => async () => {
		const failures: string[] = [];
		await sweep(
			{
				prepare: async (h) => {
					if (signedInBefore) await signIn(server, h.client, alice.did);
					const { url } = await h.client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
					return server.authorize(url, { did: alice.did });
				},
				run: (h, params, signal) => h.client.callback(params as URLSearchParams, { signal }),
				check: async (h, params, result) => {
					const before = signedInBefore ? 1 : 0;
					if (result.ok) {
						if (!h.sessions.map.has(alice.did)) throw new Error('resolved, but no session was stored');
					} else {
						const states = h.states.map.size;
						if (!signedInBefore && h.sessions.map.has(alice.did)) {
							throw new Error('rejected, but a session was stored');
						}
						if (states === 1) {
							// the code was not sent: the same callback completes
							const again = await outcome(h.client.callback(params as URLSearchParams));
							if (!again.ok) {
								throw new Error(`the state was put back, but its callback failed: ${String(again.error)}`);
							}
						} else {
							const active = activeGrants();
							if (active.length !== before) {
								throw new Error(`${active.length} grant(s) left active, ${before} stored`);
							}
							await signIn(server, h.client, alice.did);
						}
					}
					const session = await h.client.restore(alice.did, { refresh: false });
					const response = await session.handle('/xrpc/com.atproto.server.getSession');
					if (response.status !== 200) throw new Error(`the session's call answered ${response.status}`);
					await h.client.close();
					const active = activeGrants();
					if (active.length !== 1) throw new Error(`${active.length} grants active, one stored`);
				},
			},
			failures,
			variant,
		);
		expect(failures).toEqual([]);
	};

	for (const [name, variant] of VARIANTS) {
		it(
			`callback(), ${name}: rejects with the reason, stores the session or nothing, revokes what it does not keep`,
			callbackSweep(variant, false),
		);
	}
	it(
		'callback() replacing a session: rejects with the reason, one grant stays active',
		callbackSweep({}, true),
	);

	type HandleCase =
		| 'stale'
		| 'refused'
		| 'stream'
		| 'two calls'
		| 'every token refused'
		| 'aborted call first';
	const handleSweep = (kind: HandleCase, variant: ClientVariant) => async () => {
		const failures: string[] = [];
		await sweep(
			{
				prepare: async (h) => {
					await signIn(server, h.client, alice.did);
					if (kind === 'every token refused') server.behaviour.refuseEveryToken = true;
					if (kind === 'refused' || kind === 'every token refused') server.expireAccessTokens(alice.did);
					else clock.advance(2 * 60 * 60 * 1000);
					return h.client.restore(alice.did, { refresh: false });
				},
				run: async (_, prepared, signal) => {
					const session = prepared as OAuthSession;
					if (kind === 'stream') {
						const response = await createRecord(
							session,
							streamOf(JSON.stringify({ repo: alice.did, collection: 'x.y', record: {} })),
							signal,
						);
						await response.body?.cancel();
						return response.status;
					}
					let other =
						kind === 'two calls' ? outcome(session.handle('/xrpc/com.atproto.server.getSession')) : undefined;
					const mine = session.handle('/xrpc/com.atproto.server.getSession', { signal });
					if (kind === 'aborted call first')
						other = outcome(session.handle('/xrpc/com.atproto.server.getSession'));
					const response = await mine.catch(async (err) => {
						await other;
						throw err;
					});
					await response.body?.cancel();
					const first = await other;
					if (first !== undefined && (!first.ok || first.value.status >= 500)) {
						throw new Error('the call without a signal failed');
					}
					return response.status;
				},
				check: async (h, session, result) => {
					const expected = kind === 'every token refused' ? 401 : 200;
					if (result.ok && result.value !== expected) throw new Error(`answered ${String(result.value)}`);
					// the same object goes on working
					const again = await (session as OAuthSession).handle('/xrpc/com.atproto.server.getSession');
					if (again.status !== expected) throw new Error(`the next call answered ${again.status}`);
					await again.body?.cancel();
					await h.client.close();
					const stored = h.sessions.map.get(alice.did);
					if (stored === undefined) throw new Error('the session was deleted');
					const active = activeGrants();
					if (active.length !== 1 || active[0]!.refreshToken !== stored.tokenSet.refresh_token) {
						throw new Error('the stored refresh token is not the grant the server holds');
					}
				},
			},
			failures,
			variant,
		);
		expect(failures).toEqual([]);
	};

	for (const kind of [
		'stale',
		'refused',
		'stream',
		'two calls',
		'every token refused',
		'aborted call first',
	] as const) {
		// the client's own variants are swept at the callback; here, the plain client, and bodies read
		// chunk by chunk where the library reads them (a refused call's 401 and the refresh)
		for (const [name, variant] of VARIANTS.filter(
			([, v]) => Object.keys(v).length === 0 || (kind === 'refused' && v.bodySteps),
		)) {
			it(
				`session.handle(), ${kind}, ${name}: rejects with the reason, the refresh is stored, the session works`,
				handleSweep(kind, variant),
			);
		}
	}
});
