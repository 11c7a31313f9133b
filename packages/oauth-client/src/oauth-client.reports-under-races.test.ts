// what the events and traces report when operations race: each names what happened
import type { Did } from '@atcute/lexicons';
import { generatePrivateKey } from '@atcute/oauth-keys';
import { describe, expect, it } from 'vitest';
import type { StoredSession } from './stored-types.ts';
import { leasingLock } from './test-utils/leasing-lock.ts';
import { MapStore } from './test-utils/map-store.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';
import type { OAuthTracer } from './tracer.ts';

/** a tracer that records each context of `operation` with how its promise settled. */
const recordingTracer = (operation: string) => {
	const traced: { context: Record<string, unknown>; settled?: 'ok' | 'error' }[] = [];
	const tracer: OAuthTracer = {
		async trace(op, context, fn) {
			if (op !== operation) return fn();
			const entry: (typeof traced)[number] = { context: context as Record<string, unknown> };
			traced.push(entry);
			try {
				const value = await fn();
				entry.settled = 'ok';
				return value;
			} catch (err) {
				entry.settled = 'error';
				throw err;
			}
		},
	};
	return { traced, tracer };
};

describe("a request's trace: the PDS it was sent to", () => {
	let server: TestOAuthServer;
	let count = 0;
	const newAccount = () =>
		server.createAccount({ handle: `honest-${++count}.test` }) as { did: Did; handle: string };

	useTestServer((env) => ({ server } = env));

	it('names the PDS a request was sent to, though another call of the session moved it meanwhile', async () => {
		const dave = newAccount();
		const { traced, tracer } = recordingTracer('request');
		let hold: Promise<void> | undefined;
		const sentTo: string[] = [];
		const fetch: typeof globalThis.fetch = async (input, init) => {
			const url = new URL(input instanceof Request ? input.url : String(input));
			if (url.pathname.startsWith('/xrpc/')) {
				sentTo.push(url.origin);
				if (hold !== undefined) {
					// the PDS answered it (200); the answer is slow to come back
					await hold;
					return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
				}
			}
			return globalThis.fetch(input, init);
		};
		const { client } = await createTestClient(server, { tracer, fetch });
		const { session } = await signIn(server, client, dave.did);
		const before = new URL(session.serviceUrl).origin;
		const moved = server.pdsUrl.replace('127.0.0.1', 'localhost');
		server.updateAccount(dave.did, { pdsEndpoint: moved });
		server.behaviour.resourceMetadataOverrides = { resource: moved };
		server.behaviour.metadataOverrides = { protected_resources: [server.pdsUrl, moved] };

		let release!: () => void;
		hold = new Promise<void>((resolve) => (release = resolve));
		// sent to the PDS the session holds now, held on the wire
		const call = session.handle('/xrpc/com.atproto.server.getSession');
		await expect.poll(() => sentTo.length).toBe(1);
		hold = undefined;
		// meanwhile the account is refreshed through the same object, and follows its move
		await session.refresh();
		expect(session.serviceUrl).toBe(moved);
		release();
		const response = await call;

		expect(response.status).toBe(200);
		// sent once, to the PDS before the move (the refresh's own PDS calls are not xrpc)
		expect(sentTo[0]).toBe(before);
		expect(sentTo).toHaveLength(1);
		expect(traced).toHaveLength(1);
		expect(traced[0]!.context).toMatchObject({ status: response.status, origin: before });
	});

	it('names the new PDS on a request that a refresh moved there and that then failed', async () => {
		const dave = newAccount();
		const { traced, tracer } = recordingTracer('request');
		const sentTo: string[] = [];
		const moved = server.pdsUrl.replace('127.0.0.1', 'localhost');
		const fetch: typeof globalThis.fetch = async (input, init) => {
			const url = new URL(input instanceof Request ? input.url : String(input));
			if (url.pathname.startsWith('/xrpc/')) {
				sentTo.push(url.origin);
				// the new PDS is down
				if (url.origin === new URL(moved).origin) throw new TypeError('fetch failed');
			}
			return globalThis.fetch(input, init);
		};
		const { client, clock } = await createTestClient(server, { tracer, fetch });
		const { session } = await signIn(server, client, dave.did);
		server.updateAccount(dave.did, { pdsEndpoint: moved });
		server.behaviour.resourceMetadataOverrides = { resource: moved };
		server.behaviour.metadataOverrides = { protected_resources: [server.pdsUrl, moved] };
		// the token goes stale: the next call refreshes first, follows the account, and is sent there
		clock.advance(2 * 3600 * 1000);

		await expect(session.handle('/xrpc/com.atproto.server.getSession')).rejects.toThrow();
		expect(sentTo.at(-1)).toBe(new URL(moved).origin);
		expect(traced).toHaveLength(1);
		expect(traced[0]).toMatchObject({ settled: 'error', context: { origin: new URL(moved).origin } });
	});
});

describe('session events in order', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => ({ server, alice } = env));

	it('delivers a refresh stored and then a sign-out in that order', async () => {
		const { client } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const events: string[] = [];
		client.addEventListener((event) => void events.push(event.type));
		server.behaviour.metadataOverrides = { revocation_endpoint: undefined };
		server.behaviour.tokenDelayMs = 100;
		const refreshing = client.restore(alice.did, { refresh: true });
		await new Promise((resolve) => setTimeout(resolve, 50));
		await Promise.all([refreshing, client.revoke(alice.did)]);
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(events).toEqual(['updated', 'deleted']);
	});
});

describe('a refresh whose lock was lost while another process signed the account out', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => ({ server, alice } = env));

	it('reports no deleted invalid_grant for a session another process signed out while the lock was lost', async () => {
		const sessions = new MapStore<StoredSession>();
		const key = await generatePrivateKey('main');
		const { lock, leases } = leasingLock();
		let held: (() => void) | undefined;
		let holding = false;
		const fetch: typeof globalThis.fetch = async (input, init) => {
			const url = new URL(input instanceof Request ? input.url : String(input));
			if (
				url.pathname === '/oauth/token' &&
				String(init?.body).includes('grant_type=refresh_token') &&
				held === undefined
			) {
				holding = true;
				await new Promise<void>((resolve) => (held = resolve));
			}
			return globalThis.fetch(input, init);
		};
		const ours = await createTestClient(server, { key, sessions, requestLock: lock, fetch });
		const other = await createTestClient(server, { key, sessions });
		await signIn(server, ours.client, alice.did);
		const events: string[] = [];
		ours.client.addEventListener(
			(event) => void events.push(event.type === 'deleted' ? `deleted ${event.cause}` : event.type),
		);
		const otherEvents: string[] = [];
		other.client.addEventListener(
			(event) => void otherEvents.push(event.type === 'deleted' ? `deleted ${event.cause}` : event.type),
		);

		const refreshing = ours.client.restore(alice.did, { refresh: true }).then(
			() => undefined,
			(err: unknown) => err,
		);
		await expect.poll(() => holding).toBe(true);
		// our lease runs out while the token request is on its way; the other process signs out
		leases.at(-1)!.abort(new Error('lease ran out'));
		await other.client.revoke(alice.did);
		expect(sessions.map.has(alice.did)).toBe(false);
		// the grant is gone at the server: the refresh token is refused
		server.behaviour.refreshFailure = 'invalid_grant';
		held!();
		const error = await refreshing;
		expect(error).toBeInstanceOf(Error);
		await new Promise((resolve) => setTimeout(resolve, 20));
		expect(otherEvents).toEqual(['deleted revoked']);
		// this process deleted nothing: the session was signed out by the other one
		expect(events).toEqual([]);
	});
});

describe("a sign-out's trace", () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => ({ server, alice } = env));

	it('says a session it could never read was deleted unrevoked, as its deleted event does', async () => {
		const { traced, tracer } = recordingTracer('revoke');
		const { client, sessions } = await createTestClient(server, { tracer });
		await signIn(server, client, alice.did);
		const events: unknown[] = [];
		client.addEventListener((event) => void events.push(event));
		// an entry the store can never read (encrypted under a key since retired)
		sessions.get = async () => {
			throw Object.assign(new Error('cannot decrypt'), { transient: false });
		};
		await client.revoke(alice.did);
		expect(sessions.map.has(alice.did)).toBe(false);
		await expect
			.poll(() => events)
			.toEqual([{ type: 'deleted', sub: alice.did, cause: 'revoked', revokedAtServer: false }]);
		// a session was stored, and deleted: not "none of this client's was stored"
		expect(traced[0]!.context).toMatchObject({ revokedAtServer: false });
	});
});
