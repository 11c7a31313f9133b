import { LocalActorResolver, PlcDidDocumentResolver } from '@atcute/identity-resolver';
import type { Did } from '@atcute/lexicons';
import { describe, expect, it, vi } from 'vitest';

import { LockTimeoutError } from './errors.ts';
import { defaultLockFor } from './internal/default-lock.ts';
import { LOCK_WAIT_MS } from './lock.ts';

import { OAuthClient } from './oauth-client.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { loadInstalledCopy } from './test-utils/installed-copy.ts';
import { MapStore } from './test-utils/map-store.ts';
import {
	actorResolverFor,
	CLIENT_ID,
	REDIRECT_URI,
	signIn,
	type TestClock,
	type TestOAuthServer,
	useTestServer,
} from './test-utils/setup.ts';

// npm and pnpm often leave two copies of this package in one app: the facade's own dependency
// beside the version the app (or an adapter's peer) resolved. two clients in one process, one from
// each copy, on one store (a web handler and a job runner) must keep each other out as two clients
// of one copy do: a refresh token spent twice ends the grant, a code exchanged twice too
const other = await loadInstalledCopy();
// an install where the DPoP package got a copy of the keys package of its own (two ranges that do
// not meet): the key errors it throws are not of the client's class
const keysTwice = await loadInstalledCopy({ '@atcute/oauth-dpop': ['@atcute/oauth-keys'] });

describe('two clients from two installed copies of the package, on one store', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	let clock: TestClock;
	let createTestClient: Parameters<Parameters<typeof useTestServer>[0]>[0]['createTestClient'];

	useTestServer((env) => {
		({ server, alice, clock, createTestClient } = env);
	});

	/** a client of the other copy, configured as `createTestClient` configures one of this copy. */
	const otherCopyClient = (
		stores: { sessions: MapStore<StoredSession>; states: MapStore<StoredState> },
		key: Awaited<ReturnType<typeof createTestClient>>['key'],
	) =>
		new other.OAuthClient({
			metadata: {
				client_id: CLIENT_ID,
				redirect_uris: [REDIRECT_URI, 'https://app.example.com/oauth/other'],
				scope: ['atproto', 'transition:generic'],
			},
			keyset: [key],
			stores,
			actorResolver: actorResolverFor(server),
			allowHttp: true,
			now: clock.now,
		});

	it('is a copy of its own: its classes are not this copy’s', () => {
		expect(other.OAuthClient.name).toBe('OAuthClient');
		expect(other.OAuthClient).not.toBe(OAuthClient);
	});

	it('serialises their refreshes with the default lock: one refresh, the other client adopts it', async () => {
		const first = await createTestClient(server);
		await signIn(server, first.client, alice.did);
		const second = otherCopyClient({ sessions: first.sessions, states: first.states }, first.key);
		clock.advance(2 * 3600 * 1000);

		const [a, b] = await Promise.all([first.client.restore(alice.did), second.restore(alice.did)]);
		expect(server.stats.token.refresh_token).toBe(1);
		expect(a.getTokenInfo()).toEqual(b.getTokenInfo());
		expect(first.sessions.map.get(alice.did)).toBeDefined();
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });
	});

	it("gives up waiting with this copy's LockTimeoutError when the other copy's client made the lock", async () => {
		const { key } = await createTestClient(server);
		const stores = { sessions: new MapStore<StoredSession>(), states: new MapStore<StoredState>() };
		// the other copy's client comes first on the store (a job runner started before the web handler)
		otherCopyClient(stores, key);
		// the lock every client of this copy on the store then uses, as new OAuthClient() gets it
		const lock = defaultLockFor(stores.sessions, 10_000);
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
		try {
			let release!: () => void;
			const holder = lock('a', () => new Promise<void>((resolve) => (release = resolve)));
			const waiter = lock('a', async () => 'ran').catch((err: unknown) => err);
			await vi.advanceTimersByTimeAsync(LOCK_WAIT_MS + 1);
			const error = await waiter;
			release();
			await holder;
			// the app branches on the class it imported from this copy (the example app's 503 page)
			expect(error).toBeInstanceOf(LockTimeoutError);
			expect(error).toMatchObject({ code: 'ERR_LOCK_TIMEOUT', lockName: 'a', timeout: LOCK_WAIT_MS });
		} finally {
			vi.useRealTimers();
		}
	});

	it('lets only one callback through when their state store cannot take', async () => {
		const stores = {
			sessions: new MapStore<StoredSession>(),
			states: new MapStore<StoredState>({ atomicTake: false }),
		};
		const { client, key } = await createTestClient(server, { stores });
		const second = otherCopyClient(stores, key);
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
		const params = await server.authorize(url, { did: alice.did });

		const results = await Promise.allSettled([client.callback(params), second.callback(params)]);
		expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
		const refused = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
		expect(refused.reason).toMatchObject({ code: 'ERR_OAUTH_CALLBACK', error: 'invalid_state' });
		expect(server.stats.token.authorization_code).toBe(1);
	});
});

describe('a client whose DPoP package has a copy of its own of the keys package', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	let clock: TestClock;
	let createTestClient: Parameters<Parameters<typeof useTestServer>[0]>[0]['createTestClient'];

	useTestServer((env) => {
		({ server, alice, clock, createTestClient } = env);
	});

	it('reads a stored DPoP key it cannot import as an unreadable session, and keeps it', async () => {
		const { key, sessions, states } = await createTestClient(server);
		const client = new keysTwice.OAuthClient({
			metadata: {
				client_id: CLIENT_ID,
				redirect_uris: [REDIRECT_URI],
				scope: ['atproto', 'transition:generic'],
			},
			keyset: [key],
			stores: { sessions, states },
			actorResolver: actorResolverFor(server),
			allowHttp: true,
			now: clock.now,
		});
		await signIn(server, client as never, alice.did);
		const damaged = structuredClone(sessions.map.get(alice.did)!);
		delete (damaged.dpopKey as { d?: string }).d;
		sessions.map.set(alice.did, damaged);

		const error = await client.restore(alice.did).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(keysTwice.UnreadableSessionError);
		expect(error).toMatchObject({ code: 'ERR_UNREADABLE_SESSION', did: alice.did });
		expect((error as Error).cause).toMatchObject({ code: 'ERR_INVALID_KEY', name: 'InvalidKeyError' });
		expect(sessions.map.get(alice.did)).toBe(damaged);
	});
});

describe('an identity error thrown by a resolver from another installed copy of the package', () => {
	let server: TestOAuthServer;
	let createTestClient: Parameters<Parameters<typeof useTestServer>[0]>[0]['createTestClient'];

	useTestServer((env) => {
		({ server, createTestClient } = env);
	});

	// the facade's handle resolvers throw the facade's copy's IdentityResolutionError, which a
	// client of the app's own copy receives
	it.each(['not_found', 'invalid_document'] as const)('keeps its reason (%s)', async (reason) => {
		const actorResolver = new LocalActorResolver({
			handleResolver: {
				resolve: async (handle) => {
					throw new other.IdentityResolutionError(handle, { reason, detail: 'no DID for it' });
				},
			},
			didDocumentResolver: new PlcDidDocumentResolver({ apiUrl: server.plcUrl }),
		});
		const { client } = await createTestClient(server, { actorResolver });

		const error = await client
			.authorize({ target: { type: 'account', identifier: 'nobody.test' } })
			.catch((err: unknown) => err);
		expect(error).toMatchObject({ code: 'ERR_IDENTITY_RESOLUTION', reason, transient: false });
	});
});
