import type { ActorResolver } from '@atcute/identity-resolver';
import type { Did } from '@atcute/lexicons';
import { describe, expect, it, vi } from 'vitest';

import { OAuthCallbackError } from './errors.ts';
import { createMemoryLock } from './lock.ts';
import type { CallbackOptions } from './oauth-client.ts';
import type { StoredSession } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import { pathOf, settled } from './test-utils/promises.ts';
import {
	actorResolverFor,
	CLIENT_ID,
	createTestClient,
	signIn,
	type TestOAuthServer,
	useTestServer,
} from './test-utils/setup.ts';
import type { OAuthTracer } from './tracer.ts';

const loose = <T>(value: unknown): T => value as T;

/** a request that is answered only by its signal's abort: the abort must reach it. */
const untilAborted = (signal: AbortSignal | null | undefined): Promise<never> =>
	new Promise((_, reject) => {
		if (signal?.aborted) reject(signal.reason);
		else signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
	});

/**
 * `callback(params, { signal })`: an abort before the code is sent keeps the state, one after the
 * tokens arrived revokes them and stores nothing, and one after the session is stored changes
 * nothing. each abort lands at a chosen step, not on a timer.
 */
describe('OAuthClient.callback with a signal', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => {
		({ server, alice } = env);
	});

	/** a client, and the redirect of a sign-in it started for alice (from her handle). */
	const start = async (overrides?: Parameters<typeof createTestClient>[1]) => {
		const test = await createTestClient(server, overrides);
		const { url } = await test.client.authorize({
			target: { type: 'account', identifier: alice.handle },
			state: { returnTo: '/x' },
		});
		return { ...test, params: await server.authorize(url, { did: alice.did }) };
	};

	/** the grants the server issued since `from` (it keeps earlier tests' grants). */
	const grantsSince = (from: number) => server.sessions(alice.did).slice(from);

	it.each<[string, unknown, RegExp]>([
		['the controller for its signal', { signal: new AbortController() }, /^signal must be an AbortSignal/],
		['a misspelt option', { sigal: AbortSignal.timeout(1000) }, /has no option "sigal" \(it takes signal\)/],
		["another method's option", { state: {} }, /has no option "state"/],
		['null', null, /expects an object such as \{ signal \}, got null/],
		['a string', 'signal', /expects an object such as \{ signal \}, got string/],
	])('refuses %s with a TypeError, and the state stays', async (_, options, message) => {
		const { client, params, states } = await start();
		const error = await settled(client.callback(params, loose(options)));
		expect(error).toBeInstanceOf(TypeError);
		expect((error as Error).message).toMatch(message);
		expect(states.calls.filter((call) => call.startsWith('take'))).toEqual([]);
		expect((await client.callback(params)).session.did).toBe(alice.did);
	});

	it('gives up on a state store that stalls when the signal aborts, and puts back the state it takes after', async () => {
		const { client, params, states } = await start();
		// the store takes its time (a connection that is down, no time limit of its own)
		const take = states.take!;
		let goOn = (): void => {};
		states.take = loose(
			(key: string) =>
				new Promise((resolve) => {
					goOn = () => resolve(take(key));
				}),
		);
		const controller = new AbortController();
		const reason = new Error('visitor left');
		const call = settled(client.callback(params, { signal: controller.signal }));
		await new Promise((resolve) => setTimeout(resolve, 10));
		controller.abort(reason);
		expect(await call).toBe(reason);

		// the take goes through after all: the state goes back, and the same callback completes
		goOn();
		states.take = take;
		await expect.poll(() => states.map.size).toBe(1);
		expect((await client.callback(params)).session.did).toBe(alice.did);
	});

	it('takes nothing for a signal aborted already, and throws its reason', async () => {
		const { client, params, states, sessions } = await start();
		const reason = new Error('the visitor went away');
		const error = await settled(client.callback(params, { signal: AbortSignal.abort(reason) }));
		expect(error).toBe(reason);
		expect(states.calls.filter((call) => call.startsWith('take'))).toEqual([]);
		expect(server.stats.token.authorization_code).toBe(0);
		expect(sessions.map.size).toBe(0);
		// the same callback completes afterwards
		const { session, state } = await client.callback(params, { signal: new AbortController().signal });
		expect(session.did).toBe(alice.did);
		expect(state).toEqual({ returnTo: '/x' });
	});

	it('puts the state back when the abort lands while it is taken', async () => {
		const { client, params, states } = await start();
		const controller = new AbortController();
		const reason = new Error('deadline');
		const take = states.take!;
		states.take = (key) => {
			controller.abort(reason);
			return take(key);
		};
		expect(await settled(client.callback(params, { signal: controller.signal }))).toBe(reason);
		expect(server.stats.token.authorization_code).toBe(0);
		states.take = take;
		expect((await client.callback(params)).session.did).toBe(alice.did);
		expect(server.stats.token.authorization_code).toBe(1);
	});

	it("puts the state back when the abort lands during the authorization server's discovery", async () => {
		const { params, states, sessions, key } = await start();
		// another client on the same stores (a client per request), whose discovery is not cached
		const controller = new AbortController();
		const reason = new Error('deadline');
		const seen: string[] = [];
		const { client } = await createTestClient(server, {
			key,
			stores: { sessions, states },
			timeout: 3000,
			fetch: (input, init) => {
				seen.push(pathOf(input));
				if (pathOf(input) !== '/.well-known/oauth-authorization-server' || controller.signal.aborted) {
					return globalThis.fetch(input, init);
				}
				controller.abort(reason);
				// a server that answers slowly: the caller's abort must reach the request
				return untilAborted(init?.signal);
			},
		});
		const started = Date.now();
		expect(await settled(client.callback(params, { signal: controller.signal }))).toBe(reason);
		// at once, not at the client's own time limit
		expect(Date.now() - started).toBeLessThan(1500);
		expect(seen).toEqual(['/.well-known/oauth-authorization-server']);
		expect(server.stats.token.authorization_code).toBe(0);
		// a reload completes it
		expect((await client.callback(params)).session.did).toBe(alice.did);
	});

	// a token request cut short would leave what the server issued out of reach (no revocation),
	// or send nothing and still spend the state: it runs to its end, and what it brings is revoked
	it('lets the token request finish when the abort lands during it, then revokes its tokens', async () => {
		const controller = new AbortController();
		const reason = new Error('deadline');
		const token: { aborted?: boolean | undefined } = {};
		const earlier = server.sessions(alice.did).length;
		const { client, params, sessions } = await start({
			fetch: (input, init) => {
				if (pathOf(input).endsWith('/token')) {
					controller.abort(reason);
					// the request's own signal does not follow the caller's
					token.aborted = init?.signal?.aborted;
				}
				return globalThis.fetch(input, init);
			},
		});
		expect(await settled(client.callback(params, { signal: controller.signal }))).toBe(reason);
		expect(token.aborted).toBe(false);
		expect(server.stats.token.authorization_code).toBe(1);
		expect(grantsSince(earlier)).toEqual([expect.objectContaining({ active: false })]);
		expect(sessions.map.size).toBe(0);
	});

	it('rejects with the reason of an abort during a token request that then fails', async () => {
		const controller = new AbortController();
		const reason = new Error('deadline');
		server.behaviour.codeExchangeFailure = 'status_503';
		const { client, params, sessions } = await start({
			fetch: (input, init) => {
				if (pathOf(input).endsWith('/token')) controller.abort(reason);
				return globalThis.fetch(input, init);
			},
		});
		expect(await settled(client.callback(params, { signal: controller.signal }))).toBe(reason);
		expect(sessions.map.size).toBe(0);
	});

	it('revokes the tokens and stores nothing when the abort lands during the identity check', async () => {
		const controller = new AbortController();
		const reason = new Error('deadline');
		const resolver = actorResolverFor(server);
		// the check after the token request resolves the DID; authorize resolved the handle
		const actorResolver: ActorResolver = {
			resolve: (actor, options) => {
				if (!actor.startsWith('did:')) return resolver.resolve(actor, options);
				controller.abort(reason);
				// a resolver that answers only to its signal: the caller's must reach it
				return untilAborted(options?.signal);
			},
		};
		const earlier = server.sessions(alice.did).length;
		const { client, params, sessions } = await start({ actorResolver, timeout: 3000 });
		expect(await settled(client.callback(params, { signal: controller.signal }))).toBe(reason);
		expect(server.stats.token.authorization_code).toBe(1);
		expect(grantsSince(earlier)).toEqual([expect.objectContaining({ active: false })]);
		expect(sessions.map.size).toBe(0);
	});

	it('revokes the tokens and stores nothing when the abort lands while the lock is awaited', async () => {
		const controller = new AbortController();
		const reason = new Error('deadline');
		const lock = createMemoryLock();
		const earlier = server.sessions(alice.did).length;
		const { client, params, sessions } = await start({
			requestLock: (name, fn) => {
				controller.abort(reason);
				return lock(name, fn);
			},
		});
		expect(await settled(client.callback(params, { signal: controller.signal }))).toBe(reason);
		expect(grantsSince(earlier)).toEqual([expect.objectContaining({ active: false })]);
		expect(sessions.map.size).toBe(0);
	});

	it("is let go at once when the abort lands while another holder has the account's lock", async () => {
		const controller = new AbortController();
		const reason = new Error('deadline');
		const lock = createMemoryLock();
		const earlier = server.sessions(alice.did).length;
		let release: () => void = () => {};
		const { client, params, sessions } = await start({ requestLock: lock });
		// another holder (a refresh of this account in this process) keeps the lock for a while
		const held = lock(
			`oauth-session-${alice.did}`,
			() => new Promise<void>((resolve) => (release = resolve)),
		);
		const call = client.callback(params, { signal: controller.signal });
		await vi.waitFor(() => expect(server.stats.token.authorization_code).toBe(1));
		setTimeout(() => controller.abort(reason), 50);
		// settled while the other holder still has the lock (it is released only below)
		expect(await settled(call)).toBe(reason);
		expect(grantsSince(earlier)).toEqual([expect.objectContaining({ active: false })]);
		// the lock's turn comes: the sign-in's write sees the abort and stores nothing
		release();
		await held;
		await new Promise((resolve) => setTimeout(resolve, 20));
		expect(sessions.map.size).toBe(0);
	});

	// a lock whose release fails (a Redlock-style lock) after its function stored the session: the
	// session is kept, so its tokens must not be revoked under it
	it('keeps a sign-in whose session was stored when the lock then fails', async () => {
		const lock = createMemoryLock();
		const earlier = server.sessions(alice.did).length;
		const { client, params, sessions } = await start({
			requestLock: async (name, fn) => {
				const result = await lock(name, fn);
				if (name.startsWith('oauth-session-')) throw new Error('release failed');
				return result;
			},
		});
		const { session } = await client.callback(params);
		expect(sessions.map.has(alice.did)).toBe(true);
		expect(grantsSince(earlier)).toEqual([expect.objectContaining({ active: true })]);
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
	});

	it('lets the sign-in stand once the session is stored, and still revokes the grant it replaced', async () => {
		const sessions = new MapStore<StoredSession>();
		const { client: earlierClient, key } = await createTestClient(server, { sessions });
		const earlier = server.sessions(alice.did).length;
		await signIn(server, earlierClient, alice.did);
		const controller = new AbortController();
		const reason = new Error('deadline');
		const { client, params } = await start({ key, sessions });
		const set = sessions.set.bind(sessions);
		sessions.set = async (did, value) => {
			await set(did, value);
			// the write landed: the visitor leaves now
			controller.abort(reason);
		};

		const { session } = await client.callback(params, { signal: controller.signal });
		expect(session.did).toBe(alice.did);
		expect(sessions.map.get(alice.did)?.tokenSet.access_token).toBe(
			server.sessions(alice.did).at(-1)?.accessToken,
		);
		const [replaced, current] = grantsSince(earlier);
		expect(current).toMatchObject({ active: true });
		// on a deadline of its own, not the caller's aborted signal
		expect(replaced).toMatchObject({ active: false });
	});

	it('is traced as a callback span, aborted or not', async () => {
		const spans: { operation: string; context: object; outcome?: unknown }[] = [];
		const tracer: OAuthTracer = {
			async trace(operation, context, fn) {
				const span: (typeof spans)[number] = { operation, context };
				spans.push(span);
				try {
					return await fn();
				} catch (err) {
					span.outcome = err;
					throw err;
				}
			},
		};
		const { client, params } = await start({ tracer });
		const reason = new Error('the visitor went away');
		const options: CallbackOptions = { signal: AbortSignal.abort(reason) };
		expect(await settled(client.callback(params, options))).toBe(reason);
		await client.callback(params, { signal: new AbortController().signal });

		const callbacks = spans.filter(({ operation }) => operation === 'callback');
		expect(callbacks).toEqual([
			{ operation: 'callback', context: { clientId: CLIENT_ID }, outcome: reason },
			{ operation: 'callback', context: { clientId: CLIENT_ID, issuer: server.issuer, sub: alice.did } },
		]);
	});

	it("traces a callback that fails once the account is checked with that account's sub", async () => {
		const spans: { operation: string; context: object }[] = [];
		const tracer: OAuthTracer = {
			trace: (operation, context, fn) => {
				spans.push({ operation, context });
				return fn();
			},
		};
		const { client, params, sessions } = await start({ tracer });
		// the store fails the write for good: the sign-in fails after the account was checked
		sessions.set = async () => {
			throw Object.assign(new Error('disk full'), { transient: false });
		};
		await expect(client.callback(params)).rejects.toThrow();
		expect(spans.filter(({ operation }) => operation === 'callback')).toEqual([
			{ operation: 'callback', context: { clientId: CLIENT_ID, issuer: server.issuer, sub: alice.did } },
		]);
	});

	it('still refuses a replayed callback, signal or not', async () => {
		const { client, params } = await start();
		await client.callback(params, { signal: new AbortController().signal });
		const error = await settled(client.callback(params, { signal: new AbortController().signal }));
		expect(error).toBeInstanceOf(OAuthCallbackError);
		expect(error).toMatchObject({ error: 'invalid_state' });
	});
});
