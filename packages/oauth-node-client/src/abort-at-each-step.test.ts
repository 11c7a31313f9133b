import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { getEventListeners } from 'node:events';

import type { Did } from '@atcute/lexicons';
import { startTestOAuthServer, type TestOAuthServer } from '@atcute-oauth/test-oauth-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

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

/** where, relative to a step, the app's signal aborts (see the same sweep in `@atcute/oauth-client`). */
type Moment = 'begins' | 'pending' | 'held' | 'settled';
const MOMENTS: Moment[] = ['begins', 'pending', 'held', 'settled'];

interface AbortPlan {
	at: number;
	moment: Moment;
	controller: AbortController;
	callSettled?: Promise<unknown>;
}

/** resolves once `settled` has, or after a few turns of the event loop (the call may wait on the step). */
const released = async (settled: Promise<unknown> | undefined): Promise<void> => {
	let done = false;
	void settled?.then(
		() => (done = true),
		() => (done = true),
	);
	for (let turn = 0; turn < 20 && !done; turn++) await new Promise((resolve) => setImmediate(resolve));
};

/** the reason the sweep aborts with: an Error naming the step, unless a test wants another value. */
let reasonFor = (name: string): unknown => new Error(`aborted at ${name}`);

/** the steps one call goes through: each request, each body chunk read, each store call. */
class Steps {
	names: string[] = [];
	plan: AbortPlan | undefined;

	reset(plan?: AbortPlan): void {
		this.names = [];
		this.plan = plan;
	}

	async around<T>(name: string, run: () => T | Promise<T>): Promise<Awaited<T>> {
		const at = this.names.length;
		this.names.push(name);
		const plan = this.plan?.at === at ? this.plan : undefined;
		if (plan?.moment === 'begins' || plan?.moment === 'held') {
			plan.controller.abort(reasonFor(name));
		}
		const running = (async () => run())();
		running.catch(() => {});
		if (plan?.moment === 'pending') plan.controller.abort(reasonFor(name));
		if (plan?.moment === 'held') await released(plan.callSettled);
		const value = await running;
		if (plan?.moment === 'settled') plan.controller.abort(reasonFor(name));
		return value;
	}
}

const steppedStore = <V>(steps: Steps, label: string, store: MemoryStore<string, V>) => ({
	get: (key: string) => steps.around(`${label}.get`, () => store.get(key)),
	set: (key: string, value: V, options?: { expiresAt?: number }) =>
		steps.around(`${label}.set`, () => store.set(key, value, options)),
	delete: (key: string) => steps.around(`${label}.delete`, () => store.delete(key)),
	take: (key: string) => steps.around(`${label}.take`, () => store.take(key)),
	clear: () => store.clear(),
});

const steppedBody = (steps: Steps, name: string, response: Response): Response => {
	if (response.body === null) return response;
	const reader = response.body.getReader();
	const body = new ReadableStream<Uint8Array>({
		pull: (controller) =>
			steps.around(`body ${name}`, async () => {
				const { done, value } = await reader.read();
				if (done) controller.close();
				else controller.enqueue(value);
			}),
		cancel: (reason) => reader.cancel(reason),
	});
	return new Response(body, {
		status: response.status,
		statusText: response.statusText,
		headers: response.headers,
	});
};

const outcome = <T>(promise: Promise<T>) =>
	promise.then(
		(value) => ({ ok: true as const, value }),
		(error: unknown) => ({ ok: false as const, error }),
	);

type Result = { ok: true; value: unknown } | { ok: false; error: unknown };

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

	let unhandled: unknown[] = [];
	const onUnhandled = (reason: unknown) => unhandled.push(reason);
	beforeEach(() => {
		server.reset();
		unhandled = [];
		process.on('unhandledRejection', onUnhandled);
	});
	afterEach(() => {
		process.off('unhandledRejection', onUnhandled);
	});

	const transport = createNodeFetch({ allowPrivateNetwork: true });
	const createClient = async (steps: Steps): Promise<Harness> => {
		const sessions = new MemoryStore<string, StoredSession>();
		const states = new MemoryStore<string, StoredState>();
		const fetch = async (input: string | URL | Request, init?: RequestInit) => {
			const url = new URL(input instanceof Request ? input.url : input);
			const name = `${init?.method ?? 'GET'} ${url.pathname}`;
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

	const activeGrants = () => server.sessions(alice.did).filter((s) => s.active);

	const sweep = async (
		scenario: {
			prepare: (h: Harness) => Promise<unknown>;
			run: (h: Harness, prepared: unknown, signal: AbortSignal) => Promise<unknown>;
			check: (h: Harness, prepared: unknown, result: Result) => Promise<void>;
		},
		// every moment by default; a sweep of odd abort reasons needs only one to reach every step
		moments: readonly Moment[] = MOMENTS,
	): Promise<string[]> => {
		const failures: string[] = [];
		const learn = async (plan: AbortPlan | undefined) => {
			server.revokeAllTokensFor(alice.did);
			const steps = new Steps();
			const h = await createClient(steps);
			const prepared = await scenario.prepare(h);
			const controller = plan?.controller ?? new AbortController();
			steps.reset(plan);
			const running = outcome(scenario.run(h, prepared, controller.signal));
			if (plan !== undefined) plan.callSettled = running;
			const result = await running;
			const names = [...steps.names];
			steps.reset();
			return { h, prepared, result, names, controller };
		};
		const control = await learn(undefined);
		if (!control.result.ok) throw control.result.error;
		await control.h.client.close();
		const left = getEventListeners(control.controller.signal, 'abort').length;
		if (left !== 0) failures.push(`no abort: ${left} listener(s) left on the signal`);
		for (let at = 0; at < control.names.length; at++) {
			for (const moment of moments) {
				const controller = new AbortController();
				const { h, prepared, result } = await learn({ at, moment, controller });
				try {
					if (!result.ok && result.error !== controller.signal.reason) {
						throw new Error(`rejected with ${String(result.error)}, not the signal's reason`);
					}
					await scenario.check(h, prepared, result);
					await h.client.close();
					const listeners = getEventListeners(controller.signal, 'abort').length;
					if (listeners !== 0) throw new Error(`${listeners} listener(s) left on the signal`);
					await new Promise((resolve) => setImmediate(resolve));
					if (unhandled.length > 0) throw new Error(`unhandled rejection: ${String(unhandled[0])}`);
				} catch (err) {
					failures.push(`${moment} ${control.names[at]} (step ${at}): ${(err as Error).message}`);
					unhandled = [];
				}
			}
		}
		return failures;
	};

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
			reasonFor = (name) => new Error(`aborted at ${name}`);
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
