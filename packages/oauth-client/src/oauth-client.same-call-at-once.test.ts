import type { Did } from '@atcute/lexicons';
import { generatePrivateKey } from '@atcute/oauth-keys';
import { describe, expect, it } from 'vitest';

import {
	AuthMethodUnsatisfiableError,
	OAuthCallbackError,
	OAuthTransientError,
	SessionNotFoundError,
	TokenRefreshError,
} from './errors.ts';
import { createMemoryLock, type LockFunction } from './lock.ts';
import type { OAuthClient } from './oauth-client.ts';
import type { OAuthSession } from './oauth-session.ts';
import type { OAuthSessionEvent } from './session-events.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import {
	signIn,
	type TestAccount,
	type TestClock,
	type TestOAuthServer,
	type TestServerEnv,
	useTestServer,
} from './test-utils/setup.ts';
import type { OAuthTracer } from './tracer.ts';

// the same call made several times at once. nothing here waits a fixed time: every overlap is
// made by holding something (a request in the client's fetch, a store read, a DPoP nonce read)
// until the other callers are counted where they wait, then letting it go.

/** how many callers make the same call at once. */
const CALLERS = 20;

/** the upper bound of a test on a loaded machine: reached only when a gate never opens (a failure). */
const TEST_TIMEOUT_MS = 30_000;

/** how long an event may take to arrive, on a loaded machine: events are emitted after the write. */
const POLL = { timeout: 10_000 };

const GET_SESSION = '/xrpc/com.atproto.server.getSession';

/** a promise settled from outside. */
interface Deferred {
	promise: Promise<void>;
	resolve: () => void;
}

const deferred = (): Deferred => {
	let resolve!: () => void;
	const promise = new Promise<void>((done) => (resolve = done));
	return { promise, resolve };
};

/** counts arrivals by name; `reached(name, n)` resolves once `name` was counted `n` times. */
class Arrivals {
	readonly #counts = new Map<string, number>();
	readonly #waiting: { name: string; n: number; done: () => void }[] = [];

	count(name: string): void {
		const n = this.get(name) + 1;
		this.#counts.set(name, n);
		for (const waiter of [...this.#waiting]) {
			if (waiter.name === name && n >= waiter.n) {
				this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
				waiter.done();
			}
		}
	}

	get(name: string): number {
		return this.#counts.get(name) ?? 0;
	}

	/** counts from zero again: what came before (the setup's sign-in) is not counted. */
	reset(): void {
		this.#counts.clear();
	}

	reached(name: string, n: number): Promise<void> {
		if (this.get(name) >= n) return Promise.resolve();
		return new Promise((done) => this.#waiting.push({ name, n, done }));
	}
}

/** what a request the client sent was, by its URL (and a token request by its grant type). */
const requestKind = (url: URL, init: RequestInit | undefined, pdsOrigin: string): string => {
	if (url.pathname === '/oauth/token')
		return `token ${new URLSearchParams(String(init?.body)).get('grant_type')}`;
	if (url.pathname === '/oauth/revoke') return 'revoke';
	if (url.pathname === '/oauth/par') return 'par';
	if (url.origin === pdsOrigin) return `pds ${url.pathname}`;
	return `other ${url.pathname}`;
};

/**
 * the client's fetch, through to the test server: every request is recorded (`sent`, in order)
 * and counted by kind, and the next request of a kind can be held (`hold`) until released.
 */
const recordingFetch = (server: TestOAuthServer, arrivals: Arrivals) => {
	const pdsOrigin = new URL(server.pdsUrl).origin;
	const sent: string[] = [];
	const holds = new Map<string, { arrived: Deferred; release: Deferred }>();
	const fetchFn: typeof fetch = async (input, init) => {
		const url = new URL(input instanceof Request ? input.url : String(input));
		const kind = requestKind(url, init, pdsOrigin);
		sent.push(kind);
		arrivals.count(kind);
		const held = holds.get(kind);
		if (held !== undefined) {
			holds.delete(kind);
			held.arrived.resolve();
			await held.release.promise;
		}
		return fetch(input, init);
	};
	/** holds the next request of `kind`: `arrived` once it reached the fetch, sent on `release()`. */
	const hold = (kind: string) => {
		const held = { arrived: deferred(), release: deferred() };
		holds.set(kind, held);
		return { arrived: held.arrived.promise, release: held.release.resolve };
	};
	return { fetch: fetchFn, sent, hold };
};

/** a tracer that counts each operation started (`trace <operation>`). */
const countingTracer = (arrivals: Arrivals): OAuthTracer => ({
	trace: ((operation: string, _context: unknown, fn: () => Promise<unknown>) => {
		arrivals.count(`trace ${operation}`);
		return fn();
	}) as OAuthTracer['trace'],
});

/** an in-memory lock that counts its callers (`lock`) as they arrive, before they queue. */
const countingLock = (arrivals: Arrivals): LockFunction => {
	const lock = createMemoryLock();
	return (name, fn) => {
		arrivals.count('lock');
		return lock(name, fn);
	};
};

/** records session events, in order, as `updated <did>` / `deleted <did> <cause>`. */
const recordEvents = (client: {
	addEventListener: (listener: (event: OAuthSessionEvent) => unknown) => void;
}) => {
	const events: string[] = [];
	client.addEventListener((event) => {
		events.push(event.type === 'deleted' ? `deleted ${event.sub} ${event.cause}` : `updated ${event.sub}`);
	});
	return events;
};

/** what each promise came to: its value, or `{ error }`. */
const outcomes = <T>(promises: Promise<T>[]): Promise<(T | { error: unknown })[]> =>
	Promise.all(promises.map((promise) => promise.catch((error: unknown) => ({ error }))));

/** the grants of `did` live at the server whose tokens the store does not hold: none may be. */
const liveUnstoredGrants = (server: TestOAuthServer, sessions: MapStore<StoredSession>, did: Did) => {
	const stored = sessions.map.get(did)?.tokenSet;
	return server
		.sessions(did)
		.filter((grant) => grant.active)
		.filter(
			(grant) => grant.refreshToken !== stored?.refresh_token || grant.accessToken !== stored?.access_token,
		);
};

/** `did`'s one live grant at the server, which must be the one stored. */
const expectStoredIsTheLiveGrant = (server: TestOAuthServer, sessions: MapStore<StoredSession>, did: Did) => {
	const live = server.sessions(did).filter((grant) => grant.active);
	expect(live).toHaveLength(1);
	const stored = sessions.map.get(did)!.tokenSet;
	expect(stored.refresh_token).toBe(live[0]!.refreshToken);
	expect(stored.access_token).toBe(live[0]!.accessToken);
};

/** marks the stored access token of `did` expired, here and at the server. */
const expireAccessToken = (
	server: TestOAuthServer,
	sessions: MapStore<StoredSession>,
	clock: TestClock,
	did: Did,
): void => {
	sessions.map.get(did)!.tokenSet.expires_at = clock.now() - 1_000;
	server.expireAccessTokens(did);
};

/** `n` calls of `getSession` on `session`, made at once. */
const callsAtOnce = (session: OAuthSession, n: number): Promise<Response>[] =>
	Array.from({ length: n }, () => session.handle(GET_SESSION));

/** the status of each call, its body read. */
const statuses = async (calls: Promise<Response>[]): Promise<number[]> =>
	Promise.all(
		calls.map(async (call) => {
			const response = await call;
			await response.arrayBuffer();
			return response.status;
		}),
	);

describe('the same call made several times at once', () => {
	let server: TestOAuthServer;
	let clock: TestClock;
	let createTestClient: TestServerEnv['createTestClient'];
	let count = 0;

	useTestServer((env) => ({ server, clock, createTestClient } = env));

	// an account per test: grants left at the server by one test are not another's
	const newAccount = (): TestAccount =>
		server.createAccount({ handle: `same-call-${++count}.test` }) as TestAccount;

	/** a new account, the arrivals of a test and a fetch that records into them. */
	const newRecordedAccount = () => {
		const { did } = newAccount();
		const arrivals = new Arrivals();
		return { did, arrivals, recorder: recordingFetch(server, arrivals) };
	};

	describe('sign-in', () => {
		/** a sign-in of `did` started, and its callback parameters (the browser's part done). */
		const startedSignIn = async (client: OAuthClient, did: Did) => {
			const { url } = await client.authorize({
				target: { type: 'account', identifier: did },
				state: { n: 1 },
			});
			return server.authorize(url, { did });
		};

		it.each([
			['a state store with an atomic take', true],
			['a state store without take (get, then delete)', false],
		])(
			'a double-clicked sign-in link (the same callback twice at once), %s: one code exchange, one session, invalid_state for the second',
			async (_label, atomicTake) => {
				const { did, arrivals, recorder } = newRecordedAccount();
				const sessions = new MapStore<StoredSession>();
				const { client } = await createTestClient(server, {
					sessions,
					stores: { sessions, states: new MapStore<StoredState>({ atomicTake }) },
					fetch: recorder.fetch,
				});
				const events = recordEvents(client);
				const params = await startedSignIn(client, did);
				arrivals.reset();

				const [first, second] = await outcomes([client.callback(params), client.callback(params)]);

				expect(first).toMatchObject({ session: { did }, state: { n: 1 } });
				expect((second as { error: unknown }).error).toBeInstanceOf(OAuthCallbackError);
				expect(second).toMatchObject({ error: { error: 'invalid_state' } });
				// the code reached the token endpoint once, and was taken
				expect(arrivals.get('token authorization_code')).toBe(1);
				expect(server.stats.token.authorization_code).toBe(1);
				expect([...sessions.map.keys()]).toEqual([did]);
				expectStoredIsTheLiveGrant(server, sessions, did);
				// one `updated`: a sign-out after it is reported after it, so nothing else came before
				await client.revoke(did);
				await expect.poll(() => events, POLL).toEqual([`updated ${did}`, `deleted ${did} revoked`]);
			},
			TEST_TIMEOUT_MS,
		);

		it(
			'a double-clicked sign-in link handled by two clients on one state store without take: one code exchange',
			async () => {
				const { did, arrivals, recorder } = newRecordedAccount();
				const sessions = new MapStore<StoredSession>();
				const states = new MapStore<StoredState>({ atomicTake: false });
				// a client per request, as some apps make them, on the same stores
				const a = await createTestClient(server, {
					sessions,
					stores: { sessions, states },
					fetch: recorder.fetch,
				});
				const b = await createTestClient(server, {
					key: a.key,
					sessions,
					stores: { sessions, states },
					fetch: recorder.fetch,
				});
				const params = await startedSignIn(a.client, did);
				arrivals.reset();

				const results = await outcomes([a.client.callback(params), b.client.callback(params)]);

				const won = results.filter((result) => 'session' in (result as object));
				const lost = results.filter((result) => 'error' in (result as object));
				expect(won).toHaveLength(1);
				expect(lost).toHaveLength(1);
				expect((lost[0] as { error: unknown }).error).toMatchObject({
					name: 'OAuthCallbackError',
					error: 'invalid_state',
				});
				expect(arrivals.get('token authorization_code')).toBe(1);
				expectStoredIsTheLiveGrant(server, sessions, did);
			},
			TEST_TIMEOUT_MS,
		);

		it(
			'two authorize() for the same handle at once: two distinct states, both usable',
			async () => {
				const { did, handle } = newAccount();
				const { client, sessions, states } = await createTestClient(server);
				const authorize = (n: number) =>
					client.authorize({ target: { type: 'account', identifier: handle }, state: { n } });

				const [one, two] = await Promise.all([authorize(1), authorize(2)]);

				// two pushed requests, each with its own state, each state stored
				const pushed = server.stats.parRequests.map((request) => request.params.state);
				expect(pushed).toHaveLength(2);
				expect(new Set(pushed).size).toBe(2);
				expect([...states.map.keys()].sort()).toEqual([...pushed].sort());
				expect(one.url.searchParams.get('request_uri')).not.toBe(two.url.searchParams.get('request_uri'));

				// both complete, each handing back its own app state; the second replaces the first
				const first = await client.callback(await server.authorize(one.url, { did }));
				const second = await client.callback(await server.authorize(two.url, { did }));
				expect(first.state).toEqual({ n: 1 });
				expect(second.state).toEqual({ n: 2 });
				expect(states.map.size).toBe(0);
				expectStoredIsTheLiveGrant(server, sessions, did);
				expect((await second.session.handle(GET_SESSION)).status).toBe(200);
			},
			TEST_TIMEOUT_MS,
		);

		it(
			'two sign-ins of one account completing at once: one stored, the other grant revoked, none live and unstored',
			async () => {
				const { did } = newAccount();
				const arrivals = new Arrivals();
				const sessions = new MapStore<StoredSession>();
				const { client } = await createTestClient(server, { sessions, requestLock: countingLock(arrivals) });
				const events = recordEvents(client);
				const [oneParams, twoParams] = [await startedSignIn(client, did), await startedSignIn(client, did)];

				// the first to read the account's session (before it writes its own) waits until the other
				// has come to the lock, or to the same read: the two writes are made at once
				const get = sessions.get.bind(sessions);
				let first: Deferred | undefined;
				sessions.get = async (key) => {
					if (key === did) {
						arrivals.count('read');
						if (first === undefined) {
							first = deferred();
							void Promise.race([arrivals.reached('lock', 2), arrivals.reached('read', 2)]).then(
								first.resolve,
							);
							await first.promise;
						}
					}
					return get(key);
				};

				const results = await Promise.all([client.callback(oneParams), client.callback(twoParams)]);

				expect([...sessions.map.keys()]).toEqual([did]);
				// one of the two is stored; the grant of the other was revoked when it was replaced
				expect(liveUnstoredGrants(server, sessions, did)).toEqual([]);
				expectStoredIsTheLiveGrant(server, sessions, did);
				// both objects work: the replaced one takes up the stored session once its token is refused
				expect(await statuses(results.map(({ session }) => session.handle(GET_SESSION)))).toEqual([200, 200]);
				await expect.poll(() => events, POLL).toEqual([`updated ${did}`, `updated ${did}`]);
			},
			TEST_TIMEOUT_MS,
		);
	});

	describe('sign-out', () => {
		it(
			'two session objects of one account signing out at once: deleted once, one deleted event, no error',
			async () => {
				const { did, arrivals, recorder } = newRecordedAccount();
				const { client, sessions } = await createTestClient(server, {
					fetch: recorder.fetch,
					requestLock: countingLock(arrivals),
				});
				const events = recordEvents(client);
				await signIn(server, client, did);
				const [a, b] = await Promise.all([client.restore(did), client.restore(did)]);
				arrivals.reset();

				// the first sign-out's revocation waits until the second has come to the lock (or, without
				// one, to the revocation endpoint itself)
				const revocation = recorder.hold('revoke');
				const signingOut = [a.signOut(), b.signOut()];
				await revocation.arrived;
				await Promise.race([arrivals.reached('lock', 2), arrivals.reached('revoke', 2)]);
				revocation.release();

				expect(await outcomes(signingOut)).toEqual([undefined, undefined]);
				expect(sessions.map.has(did)).toBe(false);
				expect(sessions.calls.filter((call) => call === `delete ${did}`)).toHaveLength(1);
				expect(server.sessions(did).every((grant) => !grant.active)).toBe(true);
				// both objects are signed out
				await expect(a.handle(GET_SESSION)).rejects.toBeInstanceOf(SessionNotFoundError);
				await expect(b.handle(GET_SESSION)).rejects.toBeInstanceOf(SessionNotFoundError);
				// a sign-in after them is reported after them: one `deleted` came before it
				await signIn(server, client, did);
				await expect
					.poll(() => events, POLL)
					.toEqual([`updated ${did}`, `deleted ${did} signed_out`, `updated ${did}`]);
			},
			TEST_TIMEOUT_MS,
		);

		it(
			'client.revoke(did) and session.signOut() at once: deleted once, one deleted event, no error',
			async () => {
				const { did, arrivals, recorder } = newRecordedAccount();
				const { client, sessions } = await createTestClient(server, {
					fetch: recorder.fetch,
					requestLock: countingLock(arrivals),
				});
				const events = recordEvents(client);
				const { session } = await signIn(server, client, did);
				arrivals.reset();

				const revocation = recorder.hold('revoke');
				const signingOut = [client.revoke(did), session.signOut()];
				await revocation.arrived;
				await Promise.race([arrivals.reached('lock', 2), arrivals.reached('revoke', 2)]);
				revocation.release();

				expect(await outcomes(signingOut)).toEqual([undefined, undefined]);
				expect(sessions.map.has(did)).toBe(false);
				expect(sessions.calls.filter((call) => call === `delete ${did}`)).toHaveLength(1);
				expect(server.sessions(did).every((grant) => !grant.active)).toBe(true);
				await expect(session.handle(GET_SESSION)).rejects.toBeInstanceOf(SessionNotFoundError);
				await signIn(server, client, did);
				await expect
					.poll(() => events, POLL)
					.toEqual([`updated ${did}`, `deleted ${did} revoked`, `updated ${did}`]);
			},
			TEST_TIMEOUT_MS,
		);
	});

	describe('refresh', () => {
		it(
			`${CALLERS} restore(did, { refresh: true }) at once: one refresh, the newest refresh token stored, every session usable`,
			async () => {
				const { did, arrivals, recorder } = newRecordedAccount();
				const { client, sessions } = await createTestClient(server, { fetch: recorder.fetch });
				await signIn(server, client, did);
				sessions.map.get(did)!.tokenSet.expires_at = clock.now() - 1_000;
				const get = sessions.get.bind(sessions);
				sessions.get = (key) => {
					if (key === did) arrivals.count('read');
					return get(key);
				};

				arrivals.reset();
				const refresh = recorder.hold('token refresh_token');
				const restoring = Array.from({ length: CALLERS }, () => client.restore(did, { refresh: true }));
				// every caller has read the session, and the refresh (under its lock) too
				await refresh.arrived;
				await arrivals.reached('read', CALLERS + 1);
				refresh.release();
				const restored = await Promise.all(restoring);

				expect(server.stats.refreshAttempts).toBe(1);
				expect(server.sessions(did).at(-1)).toMatchObject({ active: true, refreshes: 1 });
				expectStoredIsTheLiveGrant(server, sessions, did);
				// every session holds the new tokens: all twenty calls go through with no other refresh
				expect(await statuses(restored.map((session) => session.handle(GET_SESSION)))).toEqual(
					Array(CALLERS).fill(200),
				);
				expect(server.stats.refreshAttempts).toBe(1);
			},
			TEST_TIMEOUT_MS,
		);

		it(
			`${CALLERS} restore(did) at once on a stale session: one refresh, traced once, every session usable`,
			async () => {
				const { did, arrivals, recorder } = newRecordedAccount();
				const { client, sessions } = await createTestClient(server, {
					fetch: recorder.fetch,
					tracer: countingTracer(arrivals),
				});
				await signIn(server, client, did);
				expireAccessToken(server, sessions, clock, did);
				const get = sessions.get.bind(sessions);
				sessions.get = (key) => {
					if (key === did) arrivals.count('read');
					return get(key);
				};

				arrivals.reset();
				const refresh = recorder.hold('token refresh_token');
				const restoring = Array.from({ length: CALLERS }, () => client.restore(did));
				await refresh.arrived;
				await arrivals.reached('read', CALLERS + 1);
				refresh.release();
				const restored = await Promise.all(restoring);

				expect(server.stats.refreshAttempts).toBe(1);
				// one refresh shared by every caller (README, Tracing: one per actual refresh)
				expect(arrivals.get('trace refresh')).toBe(1);
				expectStoredIsTheLiveGrant(server, sessions, did);
				expect(await statuses(restored.map((session) => session.handle(GET_SESSION)))).toEqual(
					Array(CALLERS).fill(200),
				);
			},
			TEST_TIMEOUT_MS,
		);

		it(
			`${CALLERS} calls at once on a session whose access token expired: one refresh, every call goes through`,
			async () => {
				const { did, arrivals, recorder } = newRecordedAccount();
				const { client, sessions } = await createTestClient(server, {
					fetch: recorder.fetch,
					tracer: countingTracer(arrivals),
				});
				await signIn(server, client, did);
				expireAccessToken(server, sessions, clock, did);
				const session = await client.restore(did, { refresh: false });

				arrivals.reset();
				const refresh = recorder.hold('token refresh_token');
				const calls = callsAtOnce(session, CALLERS);
				await refresh.arrived;
				await arrivals.reached('trace request', CALLERS);
				refresh.release();

				expect(await statuses(calls)).toEqual(Array(CALLERS).fill(200));
				expect(server.stats.refreshAttempts).toBe(1);
				expect(arrivals.get('trace refresh')).toBe(1);
				// each call went through once, with the new token (the old one would have been refused)
				expect(server.stats.resource).toBe(CALLERS);
				expectStoredIsTheLiveGrant(server, sessions, did);
			},
			TEST_TIMEOUT_MS,
		);

		it(
			`${CALLERS} calls at once whose token the PDS refuses (invalid_token): one refresh, every call retried once and through`,
			async () => {
				const { did, arrivals, recorder } = newRecordedAccount();
				const { client, sessions } = await createTestClient(server, { fetch: recorder.fetch });
				await signIn(server, client, did);
				const session = await client.restore(did);
				// the PDS's nonce is learnt first, so that each call is one request
				expect((await session.handle(GET_SESSION)).status).toBe(200);
				// the server ended the token early: the client does not know it
				server.expireAccessTokens(did);

				arrivals.reset();
				const refresh = recorder.hold('token refresh_token');
				const calls = callsAtOnce(session, CALLERS);
				await refresh.arrived;
				// every call was sent with the refused token (and its refusal is on its way back)
				await arrivals.reached(`pds ${GET_SESSION}`, CALLERS);
				refresh.release();

				expect(await statuses(calls)).toEqual(Array(CALLERS).fill(200));
				expect(server.stats.refreshAttempts).toBe(1);
				// each call refused once, then sent again with the new token (its nonce known by then)
				expect(server.stats.resource).toBe(1 + CALLERS);
				expectStoredIsTheLiveGrant(server, sessions, did);
			},
			TEST_TIMEOUT_MS,
		);

		it(
			`${CALLERS} calls at once with a sign-out among them: nothing sent after signOut() resolved, SessionNotFoundError, store empty, no grant live`,
			async () => {
				const { did, arrivals, recorder } = newRecordedAccount();
				const pdsOrigin = new URL(server.pdsUrl).origin;
				// an async nonce cache whose reads for the PDS can be held: a call held there has not been
				// signed yet, nor sent
				const known = new Map<string, string>();
				let pdsNonceRead: Deferred | undefined;
				const dpopNonces = {
					get: async (origin: string) => {
						const held = pdsNonceRead;
						if (origin === pdsOrigin && held !== undefined) {
							arrivals.count('pds nonce read');
							await held.promise;
						}
						return known.get(origin);
					},
					set: async (origin: string, nonce: string) => void known.set(origin, nonce),
				};
				const sessions = new MapStore<StoredSession>();
				const { client } = await createTestClient(server, {
					sessions,
					stores: { sessions, states: new MapStore<StoredState>(), dpopNonces },
					fetch: recorder.fetch,
					requestLock: countingLock(arrivals),
				});
				const events = recordEvents(client);
				await signIn(server, client, did);
				expireAccessToken(server, sessions, clock, did);
				const session = await client.restore(did, { refresh: false });

				arrivals.reset();
				const refresh = recorder.hold('token refresh_token');
				pdsNonceRead = deferred();
				const calls = callsAtOnce(session, CALLERS / 2);
				const signingOut = session.signOut();
				calls.push(...callsAtOnce(session, CALLERS / 2));
				// the refresh holds the account's lock, and the sign-out waits for it
				await refresh.arrived;
				await arrivals.reached('lock', 2);
				refresh.release();

				// the refresh is stored, then the sign-out revokes and deletes it; the calls, refreshed,
				// are held before they are signed
				await signingOut;
				const sentBefore = recorder.sent.length;
				await arrivals.reached('pds nonce read', CALLERS);
				pdsNonceRead.resolve();
				const results = await outcomes(calls);

				for (const result of results) {
					expect((result as { error: unknown }).error).toBeInstanceOf(SessionNotFoundError);
				}
				// nothing was sent once signOut() resolved
				expect(recorder.sent.slice(sentBefore)).toEqual([]);
				expect(server.stats.resource).toBe(0);
				expect(server.stats.refreshAttempts).toBe(1);
				expect(sessions.map.has(did)).toBe(false);
				expect(server.sessions(did).filter((grant) => grant.active)).toEqual([]);
				await signIn(server, client, did);
				await expect
					.poll(() => events, POLL)
					.toEqual([`updated ${did}`, `updated ${did}`, `deleted ${did} signed_out`, `updated ${did}`]);
			},
			TEST_TIMEOUT_MS,
		);

		it(
			'two clients on one session store and one lock refreshing the same account at once: one refresh',
			async () => {
				const { did, arrivals, recorder } = newRecordedAccount();
				const sessions = new MapStore<StoredSession>();
				const requestLock = countingLock(arrivals);
				const a = await createTestClient(server, { sessions, requestLock, fetch: recorder.fetch });
				const b = await createTestClient(server, {
					key: a.key,
					sessions,
					requestLock,
					fetch: recorder.fetch,
				});
				await signIn(server, a.client, did);
				expireAccessToken(server, sessions, clock, did);
				const [sa, sb] = [
					await a.client.restore(did, { refresh: false }),
					await b.client.restore(did, { refresh: false }),
				];

				arrivals.reset();
				const refresh = recorder.hold('token refresh_token');
				const calls = [...callsAtOnce(sa, CALLERS / 2), ...callsAtOnce(sb, CALLERS / 2)];
				// one client's refresh holds the lock, the other's waits for it (or, were it not held out,
				// sends its own token request)
				await refresh.arrived;
				await Promise.race([arrivals.reached('lock', 2), arrivals.reached('token refresh_token', 2)]);
				refresh.release();

				expect(await statuses(calls)).toEqual(Array(CALLERS).fill(200));
				expect(server.stats.refreshAttempts).toBe(1);
				expectStoredIsTheLiveGrant(server, sessions, did);
			},
			TEST_TIMEOUT_MS,
		);

		it(
			'two clients on one session store and no requestLock (the default lock) refreshing at once: one refresh',
			async () => {
				const { did } = newAccount();
				const arrivals = new Arrivals();
				const bArrivals = new Arrivals();
				const recorder = recordingFetch(server, arrivals);
				const sessions = new MapStore<StoredSession>();
				const a = await createTestClient(server, { sessions, fetch: recorder.fetch });
				const b = await createTestClient(server, {
					key: a.key,
					sessions,
					fetch: recorder.fetch,
					tracer: countingTracer(bArrivals),
				});
				await signIn(server, a.client, did);
				expireAccessToken(server, sessions, clock, did);
				const [sa, sb] = [
					await a.client.restore(did, { refresh: false }),
					await b.client.restore(did, { refresh: false }),
				];

				arrivals.reset();
				const refresh = recorder.hold('token refresh_token');
				const aCalls = callsAtOnce(sa, CALLERS / 2);
				await refresh.arrived;
				// the other client's refresh has started (and is at the lock) before the first's is answered
				const bCalls = callsAtOnce(sb, CALLERS / 2);
				await bArrivals.reached('trace refresh', 1);
				refresh.release();

				expect(await statuses([...aCalls, ...bCalls])).toEqual(Array(CALLERS).fill(200));
				expect(server.stats.refreshAttempts).toBe(1);
				expectStoredIsTheLiveGrant(server, sessions, did);
			},
			TEST_TIMEOUT_MS,
		);

		it(
			`${CALLERS} calls at once on an expired token with close() among them: the refresh shared and stored before close() resolves`,
			async () => {
				const { did, arrivals, recorder } = newRecordedAccount();
				const { client, sessions } = await createTestClient(server, {
					fetch: recorder.fetch,
					tracer: countingTracer(arrivals),
				});
				await signIn(server, client, did);
				expireAccessToken(server, sessions, clock, did);
				const session = await client.restore(did, { refresh: false });

				arrivals.reset();
				const refresh = recorder.hold('token refresh_token');
				const calls = callsAtOnce(session, CALLERS / 2);
				await refresh.arrived;
				// what the store holds when close() resolves
				const closing = client.close().then(() => structuredClone(sessions.map.get(did)));
				// callers who come after close() join the refresh under way
				calls.push(...callsAtOnce(session, CALLERS / 2));
				await arrivals.reached('trace request', CALLERS);
				refresh.release();

				expect(await statuses(calls)).toEqual(Array(CALLERS).fill(200));
				expect(server.stats.refreshAttempts).toBe(1);
				expect(arrivals.get('trace refresh')).toBe(1);
				// close() waited for the refresh: its tokens were stored by then
				const live = server.sessions(did).filter((grant) => grant.active);
				expect(live).toHaveLength(1);
				expect((await closing)?.tokenSet.refresh_token).toBe(live[0]!.refreshToken);
				expectStoredIsTheLiveGrant(server, sessions, did);
				// and no refresh starts once closed
				await expect(client.restore(did, { refresh: true })).rejects.toMatchObject({
					name: 'ClientClosedError',
					operation: 'refresh',
				});
				expect(server.stats.refreshAttempts).toBe(1);
			},
			TEST_TIMEOUT_MS,
		);

		it(
			`the token endpoint answering 503 to ${CALLERS} callers at once: one request, the same transient error for all, the session kept`,
			async () => {
				const { did, arrivals, recorder } = newRecordedAccount();
				const { client, sessions } = await createTestClient(server, {
					fetch: recorder.fetch,
					tracer: countingTracer(arrivals),
				});
				const events = recordEvents(client);
				await signIn(server, client, did);
				expireAccessToken(server, sessions, clock, did);
				const before = structuredClone(sessions.map.get(did)!);
				const session = await client.restore(did, { refresh: false });
				server.behaviour.refreshFailure = 'status_503';

				arrivals.reset();
				const refresh = recorder.hold('token refresh_token');
				const calls = callsAtOnce(session, CALLERS);
				await refresh.arrived;
				await arrivals.reached('trace request', CALLERS);
				refresh.release();
				const results = await outcomes(calls);

				expect(server.stats.refreshAttempts).toBe(1);
				for (const result of results) {
					const { error } = result as { error: unknown };
					expect(error).toBeInstanceOf(OAuthTransientError);
					expect(error).toMatchObject({ kind: 'server_error', status: 503, transient: true });
				}
				// nothing was sent to the PDS with the expired token
				expect(arrivals.get(`pds ${GET_SESSION}`)).toBe(0);
				// kept as it was, and it refreshes once the server is back
				expect(sessions.map.get(did)).toEqual(before);
				server.behaviour.refreshFailure = undefined;
				expect((await session.handle(GET_SESSION)).status).toBe(200);
				expect(server.stats.refreshAttempts).toBe(2);
				expectStoredIsTheLiveGrant(server, sessions, did);
				await client.revoke(did);
				await expect
					.poll(() => events, POLL)
					.toEqual([`updated ${did}`, `updated ${did}`, `deleted ${did} revoked`]);
			},
			TEST_TIMEOUT_MS,
		);

		it(
			`the token endpoint answering invalid_grant to ${CALLERS} callers at once: one request, deleted once, one deleted event, TokenRefreshError for all`,
			async () => {
				const { did, arrivals, recorder } = newRecordedAccount();
				const { client, sessions } = await createTestClient(server, {
					fetch: recorder.fetch,
					tracer: countingTracer(arrivals),
				});
				const events = recordEvents(client);
				await signIn(server, client, did);
				expireAccessToken(server, sessions, clock, did);
				const session = await client.restore(did, { refresh: false });
				server.behaviour.refreshFailure = 'invalid_grant';

				arrivals.reset();
				const refresh = recorder.hold('token refresh_token');
				const calls = callsAtOnce(session, CALLERS);
				await refresh.arrived;
				await arrivals.reached('trace request', CALLERS);
				refresh.release();
				const results = await outcomes(calls);

				expect(server.stats.refreshAttempts).toBe(1);
				for (const result of results) {
					const { error } = result as { error: unknown };
					expect(error).toBeInstanceOf(TokenRefreshError);
					expect(error).toMatchObject({ did, reason: 'invalid_grant' });
				}
				expect(arrivals.get(`pds ${GET_SESSION}`)).toBe(0);
				expect(sessions.map.has(did)).toBe(false);
				expect(sessions.calls.filter((call) => call === `delete ${did}`)).toHaveLength(1);
				server.behaviour.refreshFailure = undefined;
				await signIn(server, client, did);
				await expect
					.poll(() => events, POLL)
					.toEqual([`updated ${did}`, `deleted ${did} invalid_grant`, `updated ${did}`]);
			},
			TEST_TIMEOUT_MS,
		);
	});

	describe('a session whose client key left the keyset', () => {
		it(
			`${CALLERS} restore(did) at once: the session ended once, one deleted event, every caller told it ended`,
			async () => {
				const { did } = newAccount();
				const arrivals = new Arrivals();
				const first = await createTestClient(server);
				await signIn(server, first.client, did);
				// the same store, read by a client whose keyset no longer holds the session's key
				const { sessions } = first;
				const { client } = await createTestClient(server, {
					keyset: [await generatePrivateKey('next')],
					sessions,
					requestLock: countingLock(arrivals),
				});
				const events = recordEvents(client);
				const get = sessions.get.bind(sessions);
				sessions.get = (key) => {
					if (key === did) arrivals.count('read');
					return get(key);
				};
				// the first delete waits until every caller has come to the lock (or, without one, has read
				// the session under it)
				const del = sessions.delete.bind(sessions);
				sessions.delete = async (key) => {
					if (key === did) {
						await Promise.race([arrivals.reached('lock', CALLERS), arrivals.reached('read', 2 * CALLERS)]);
					}
					return del(key);
				};

				arrivals.reset();
				const results = await outcomes(Array.from({ length: CALLERS }, () => client.restore(did)));

				// the one that ended it is told why; the others, which found it ended under the lock, that
				// there is none (restore's documented errors), never a session
				const errors = results.map((result) => (result as { error: unknown }).error);
				expect(errors.filter((error) => error instanceof AuthMethodUnsatisfiableError)).toHaveLength(1);
				expect(
					errors
						.filter((error) => !(error instanceof AuthMethodUnsatisfiableError))
						.map((error) => (error as Error)?.name),
				).toEqual(Array(CALLERS - 1).fill('SessionNotFoundError'));
				expect(sessions.map.has(did)).toBe(false);
				expect(sessions.calls.filter((call) => call === `delete ${did}`)).toHaveLength(1);
				expect(server.stats.refreshAttempts).toBe(0);
				// a sign-in after it is reported after it: one `deleted` came before it
				await signIn(server, client, did);
				await expect.poll(() => events, POLL).toEqual([`deleted ${did} key_removed`, `updated ${did}`]);
			},
			TEST_TIMEOUT_MS,
		);
	});

	describe('restore and a new sign-in of the same account at once', () => {
		/** `did` signed in, its session stale, and a second sign-in's callback parameters. */
		const staleSessionAndNextSignIn = async (options: { requestLock: LockFunction; fetch: typeof fetch }) => {
			const { did } = newAccount();
			const sessions = new MapStore<StoredSession>();
			const { client } = await createTestClient(server, { sessions, ...options });
			await signIn(server, client, did);
			const old = structuredClone(sessions.map.get(did)!) as StoredSession;
			expireAccessToken(server, sessions, clock, did);
			const { url } = await client.authorize({ target: { type: 'account', identifier: did } });
			const params = await server.authorize(url, { did });
			return { did, client, sessions, old, params };
		};

		it(
			'the refresh first, the callback waiting for the lock: the new grant stored whole, the old one revoked',
			async () => {
				const arrivals = new Arrivals();
				const recorder = recordingFetch(server, arrivals);
				const { did, client, sessions, old, params } = await staleSessionAndNextSignIn({
					requestLock: countingLock(arrivals),
					fetch: recorder.fetch,
				});

				arrivals.reset();
				const refresh = recorder.hold('token refresh_token');
				const restoring = client.restore(did);
				await refresh.arrived;
				const callingBack = client.callback(params);
				// the callback waits for the lock (or, were it not held out, completes)
				await Promise.race([arrivals.reached('lock', 2), callingBack.catch(() => {})]);
				refresh.release();
				const [restored, { session }] = await Promise.all([restoring, callingBack]);

				// the stored session is the new sign-in's: its DPoP key and its grant's tokens, both live
				const stored = sessions.map.get(did)!;
				expect(stored.dpopKey).not.toEqual(old.dpopKey);
				expectStoredIsTheLiveGrant(server, sessions, did);
				expect(liveUnstoredGrants(server, sessions, did)).toEqual([]);
				// both objects work: the restored one, whose refreshed tokens were revoked, takes up the new
				// session (its key with it) without another refresh
				expect(await statuses([restored.handle(GET_SESSION), session.handle(GET_SESSION)])).toEqual([
					200, 200,
				]);
				expect(server.stats.refreshAttempts).toBe(1);
				expectStoredIsTheLiveGrant(server, sessions, did);
			},
			TEST_TIMEOUT_MS,
		);

		it(
			'the callback first, the refresh waiting for the lock: the refresh takes up the new session, no token request',
			async () => {
				const arrivals = new Arrivals();
				const recorder = recordingFetch(server, arrivals);
				const { did, client, sessions, old, params } = await staleSessionAndNextSignIn({
					requestLock: countingLock(arrivals),
					fetch: recorder.fetch,
				});
				// the callback's write of its session waits until the refresh has come to the lock
				const set = sessions.set.bind(sessions);
				sessions.set = async (key, value) => {
					if (key === did) {
						await Promise.race([arrivals.reached('lock', 2), arrivals.reached('token refresh_token', 1)]);
					}
					return set(key, value);
				};

				arrivals.reset();
				const callingBack = client.callback(params);
				// the callback's code exchange is done and it holds the lock: then the restore
				await arrivals.reached('lock', 1);
				const restoring = client.restore(did);
				const [restored, { session }] = await Promise.all([restoring, callingBack]);

				expect(sessions.map.get(did)!.dpopKey).not.toEqual(old.dpopKey);
				expectStoredIsTheLiveGrant(server, sessions, did);
				expect(liveUnstoredGrants(server, sessions, did)).toEqual([]);
				// the restore adopted the session the callback stored: nothing was refreshed
				expect(arrivals.get('token refresh_token')).toBe(0);
				expect(await statuses([restored.handle(GET_SESSION), session.handle(GET_SESSION)])).toEqual([
					200, 200,
				]);
				expect(arrivals.get('token refresh_token')).toBe(0);
			},
			TEST_TIMEOUT_MS,
		);
	});
});
