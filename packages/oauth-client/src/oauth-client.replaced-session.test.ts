import type {} from '@atcute/atproto';
import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { AuthMethodUnsatisfiableError } from './errors.ts';
import { createMemoryLock, type LockFunction } from './lock.ts';
import type { OAuthSessionEvent } from './session-events.ts';
import type { StoredSession } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import {
	signIn,
	type TestClock,
	type TestOAuthServer,
	type TestServerEnv,
	useTestServer,
} from './test-utils/setup.ts';

const GET_SESSION = '/xrpc/com.atproto.server.getSession';

/** a session store whose next `set` first runs `beforeSet` (once). */
class HookedStore extends MapStore<StoredSession> {
	beforeSet: (() => Promise<void>) | undefined;

	override async set(key: string, value: StoredSession): Promise<void> {
		const hook = this.beforeSet;
		this.beforeSet = undefined;
		await hook?.();
		return super.set(key, value);
	}
}

// an account's session replaced while an older copy of it is in use: by a new sign-in (with a DPoP
// key of its own), or by a refresh another caller made
describe('OAuthClient with a session replaced meanwhile', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	let clock: TestClock;
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, clock, createTestClient } = env));

	it('an older session object signs with the new sign-in’s DPoP key once it adopts its tokens', async () => {
		const { client, sessions } = await createTestClient(server);
		const { session: older } = await signIn(server, client, alice.did);
		const firstKey = sessions.map.get(alice.did)!.dpopKey.d;
		// the older object's token goes stale, and alice signs in again meanwhile: a new DPoP key
		clock.advance(3_600_000);
		await signIn(server, client, alice.did);
		expect(sessions.map.get(alice.did)!.dpopKey.d).not.toBe(firstKey);
		server.reset();

		for (let i = 0; i < 3; i++) {
			const response = await older.handle(GET_SESSION);
			expect(response.status).toBe(200);
			expect(await response.json()).toMatchObject({ did: alice.did });
		}
		// it adopted the new session's fresh tokens: nothing was refused, nothing refreshed
		expect(server.stats.rejections).toEqual([]);
		expect(server.stats.token.refresh_token).toBe(0);
	});

	it('restore() does not end a session that a sign-in replaced after the removed-key check', async () => {
		const sessions = new HookedStore();
		const { client } = await createTestClient(server, { sessions });
		const events: OAuthSessionEvent[] = [];
		client.addEventListener((event) => events.push(event));
		await signIn(server, client, alice.did);
		// an older session of alice, pinned to a client key since removed from the keyset
		const stored = sessions.map.get(alice.did)!;
		sessions.map.set(alice.did, { ...stored, authMethod: { method: 'private_key_jwt', kid: 'removed' } });

		// alice signs in again; the app restores her while the callback stores the new session
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
		const params = await server.authorize(url, { did: alice.did });
		let restoring: Promise<unknown> | undefined;
		sessions.beforeSet = async () => {
			restoring = client.restore(alice.did);
			await new Promise((resolve) => setTimeout(resolve, 50));
		};
		await client.callback(params);

		const restored = await restoring;
		expect(restored).toMatchObject({ did: alice.did });
		expect(sessions.map.get(alice.did)!.authMethod).toMatchObject({ method: 'private_key_jwt', kid: 'main' });
		expect(events.map((event) => event.type)).not.toContain('deleted');
	});

	it('restore() still ends a session bound to a removed key, read again under the lock', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const stored = sessions.map.get(alice.did)!;
		sessions.map.set(alice.did, { ...stored, authMethod: { method: 'private_key_jwt', kid: 'removed' } });

		const error = await client.restore(alice.did).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(AuthMethodUnsatisfiableError);
		expect(sessions.map.has(alice.did)).toBe(false);
	});

	it('restore() still says why a session bound to a removed key ended when the store cannot delete it', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const stored = sessions.map.get(alice.did)!;
		sessions.map.set(alice.did, { ...stored, authMethod: { method: 'private_key_jwt', kid: 'removed' } });
		sessions.delete = async () => {
			throw new Error('store down: delete failed');
		};

		const error = await client.restore(alice.did).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(AuthMethodUnsatisfiableError);
		// kept: the next restore ends it again
		expect(sessions.map.has(alice.did)).toBe(true);
	});

	it('a caller whose token was refused does not share a refresh started for an older token', async () => {
		// a lock that lets the test act while the first refresh waits to enter it
		const inner: LockFunction = createMemoryLock();
		let beforeLock: (() => Promise<void>) | undefined;
		const requestLock: LockFunction = async (name, fn) => {
			const hook = beforeLock;
			beforeLock = undefined;
			await hook?.();
			return inner(name, fn);
		};
		const { client } = await createTestClient(server, { requestLock });
		const { session: older } = await signIn(server, client, alice.did);
		// a refresh through another object: the older object's token is dead from now on
		const newer = await client.restore(alice.did, { refresh: true });
		expect((await newer.handle(GET_SESSION)).status).toBe(200);
		// and now the server refuses the newer token too (expired there before its time)
		server.expireAccessTokens(alice.did);
		server.reset();

		// the older object meets its refusal first; while its refresh (for the older token) waits for
		// the lock, the newer object meets its own
		let newerCall: Promise<Response> | undefined;
		beforeLock = async () => {
			newerCall = newer.handle(GET_SESSION);
			await new Promise((resolve) => setTimeout(resolve, 200));
		};
		const olderResponse = await older.handle(GET_SESSION);
		const newerResponse = await newerCall!;

		expect(olderResponse.status).toBe(200);
		expect(newerResponse.status).toBe(200);
		// one real refresh, for the newer token; the older caller adopted its result
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('callers with different stale tokens share one refresh against a failing server', async () => {
		const { client } = await createTestClient(server);
		const { session: older } = await signIn(server, client, alice.did);
		const newer = await client.restore(alice.did, { refresh: true });
		// both expired; the server fails every refresh for now
		clock.advance(7_200_000);
		server.reset();
		server.behaviour.refreshFailure = 'status_503';

		const calls = [older, newer, older, newer, older, newer].map((session) => session.handle(GET_SESSION));
		const results = await Promise.allSettled(calls);
		expect(results.map((result) => result.status)).toEqual(Array(6).fill('rejected'));
		expect(server.stats.refreshAttempts).toBe(1);
	});

	it('a forced refresh shares an automatic one under way, which refreshed', async () => {
		const { client } = await createTestClient(server);
		const { session } = await signIn(server, client, alice.did);
		clock.advance(7_200_000);
		server.reset();

		const calls = [session.handle(GET_SESSION), session.refresh(), session.handle(GET_SESSION)];
		await Promise.all(calls);
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('handle() refuses a URL on another origin than the PDS, sending nothing', async () => {
		const { client } = await createTestClient(server);
		const { session } = await signIn(server, client, alice.did);
		server.reset();
		const elsewhere = server.pdsUrl.replace('127.0.0.1', 'localhost');
		for (const pathname of [`${elsewhere}/xrpc/x`, '//evil.example/xrpc/x', '/\\evil.example/xrpc/x']) {
			await expect(session.handle(pathname)).rejects.toThrow(TypeError);
		}
		expect(server.stats.requests).toEqual([]);
		expect((await session.handle(`${server.pdsUrl}${GET_SESSION}`)).status).toBe(200);
		// nor a refresh first, when the token is stale
		clock.advance(7_200_000);
		server.reset();
		await expect(session.handle('//evil.example/xrpc/x')).rejects.toThrow(TypeError);
		expect(server.stats.requests).toEqual([]);
	});
});
