import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { ClientClosedError } from './errors.ts';
import { createMemoryLock, type LockFunction } from './lock.ts';
import type { StoredSession } from './stored-types.ts';
import type { MapStore } from './test-utils/map-store.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/** holds every session write of `sessions` until `release()`; `reached` once one is waiting. */
const holdWrites = (sessions: MapStore<StoredSession>) => {
	const set = sessions.set.bind(sessions);
	let release!: () => void;
	const released = new Promise<void>((resolve) => {
		release = resolve;
	});
	let reach!: () => void;
	const reached = new Promise<void>((resolve) => {
		reach = resolve;
	});
	sessions.set = async (key: string, value: StoredSession) => {
		reach();
		await released;
		return set(key, value);
	};
	return { reached, release };
};

/** whether `promise` has settled by the time the event loop has run what is pending. */
const settledSoon = async (promise: Promise<unknown>): Promise<boolean> => {
	let settled = false;
	promise.then(
		() => {
			settled = true;
		},
		() => {
			settled = true;
		},
	);
	await new Promise((resolve) => setTimeout(resolve, 50));
	return settled;
};

describe('OAuthClient.close(): a shutdown that loses no tokens', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => {
		({ server, alice } = env);
	});

	it('waits for a refresh under way, whose new tokens are stored, then refuses refreshes before sending anything', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const before = sessions.map.get(alice.did)!.tokenSet;
		const held = holdWrites(sessions);

		const refreshing = client.restore(alice.did, { refresh: true });
		// the refresh token is spent at the server: its successor waits for the store
		await held.reached;
		expect(server.stats.token.refresh_token).toBe(1);
		const closing = client.close();
		expect(client.close()).toBe(closing);
		expect(await settledSoon(closing)).toBe(false);

		held.release();
		await refreshing;
		await closing;
		const after = sessions.map.get(alice.did)!.tokenSet;
		expect(after.refresh_token).not.toBe(before.refresh_token);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });

		// a refresh asked for once closed is refused before any request: no refresh token is spent
		// (a caller meanwhile would have joined the one under way)
		const refused = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		expect(refused).toBeInstanceOf(ClientClosedError);
		expect(refused).toMatchObject({ code: 'ERR_CLIENT_CLOSED', operation: 'refresh', transient: true });

		expect(server.stats.token.refresh_token).toBe(1);
		expect(sessions.map.get(alice.did)!.tokenSet).toEqual(after);
	});

	it('waits for a callback under way to store its session', async () => {
		const { client, sessions } = await createTestClient(server);
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
		const params = await server.authorize(url, { did: alice.did });
		const held = holdWrites(sessions);

		const callingBack = client.callback(params);
		await held.reached;
		const closing = client.close();
		expect(await settledSoon(closing)).toBe(false);

		held.release();
		const { session } = await callingBack;
		await closing;
		expect(session.did).toBe(alice.did);
		expect(sessions.map.get(alice.did)).toBeDefined();
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });
	});

	it('refuses sign-ins, callbacks and sign-outs before they do anything; fresh tokens still work', async () => {
		const { client, sessions, states } = await createTestClient(server);
		const { session } = await signIn(server, client, alice.did);
		// a sign-in begun before the shutdown, whose visitor comes back after it
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
		const params = await server.authorize(url, { did: alice.did });
		const pendingStates = states.map.size;
		const par = server.stats.par;
		await client.close();

		const refusals = await Promise.all([
			client.authorize({ target: { type: 'account', identifier: alice.did } }).catch((err: unknown) => err),
			client.callback(params).catch((err: unknown) => err),
			client.revoke(alice.did).catch((err: unknown) => err),
			session.signOut().catch((err: unknown) => err),
		]);
		expect(
			refusals.map((error) => [error instanceof ClientClosedError, (error as ClientClosedError).operation]),
		).toEqual([
			[true, 'authorize'],
			[true, 'callback'],
			[true, 'revoke'],
			[true, 'revoke'],
		]);
		// nothing was sent, taken or deleted: the next process completes the sign-in, or signs out
		expect(server.stats.par).toBe(par);
		expect(states.map.size).toBe(pendingStates);
		expect(sessions.map.has(alice.did)).toBe(true);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });
		expect(server.stats.revoke).toBe(0);

		// calls with the access token it holds go on
		const restored = await client.restore(alice.did);
		expect((await restored.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
	});

	it('uses a token due for refresh but not expired rather than fail, once closed', async () => {
		const { client, sessions, clock } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const { tokenSet } = sessions.map.get(alice.did)!;
		// inside the refresh margin (the last minute of its hour), still good at the PDS
		clock.advance(tokenSet.expires_at! - clock.now() - 30_000);
		await client.close();

		const restored = await client.restore(alice.did);
		expect(restored.getTokenInfo().expiresAt).toEqual(new Date(tokenSet.expires_at!));
		expect(server.stats.token.refresh_token).toBe(0);
		expect(sessions.map.get(alice.did)!.tokenSet).toEqual(tokenSet);
	});

	it('waits for the state an aborted callback puts back, so that a reload can still complete it', async () => {
		const { client, states } = await createTestClient(server);
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
		const params = await server.authorize(url, { did: alice.did });
		// the state store takes its time, and the visitor leaves meanwhile
		const take = states.take!.bind(states);
		let goOn = (): void => {};
		// a store whose take is async (the Store interface allows either)
		states.take = ((key: string) =>
			new Promise((resolve) => {
				goOn = () => resolve(take(key));
			})) as unknown as NonNullable<typeof states.take>;
		const controller = new AbortController();
		const calling = client.callback(params, { signal: controller.signal }).catch((err: unknown) => err);
		await new Promise((resolve) => setTimeout(resolve, 10));
		controller.abort(new Error('visitor left'));
		await calling;

		let statesAtClose = -1;
		const closing = client.close().then(() => {
			statesAtClose = states.map.size;
		});
		expect(await settledSoon(closing)).toBe(false);
		goOn();
		await closing;
		// the state was back before the app could close the store
		expect(statesAtClose).toBe(1);
	});

	it("waits for the lock call of a callback whose visitor left while another holder had the account's lock", async () => {
		const base = createMemoryLock();
		let slow = false;
		let acquired = false;
		let lockRequested = (): void => {};
		const requested = new Promise<void>((resolve) => (lockRequested = resolve));
		// a distributed lock that waits out another holder: a while to acquire
		const requestLock: LockFunction = async (name, fn) => {
			if (slow) {
				lockRequested();
				await new Promise((resolve) => setTimeout(resolve, 200));
				acquired = true;
			}
			return base(name, fn);
		};
		const { client } = await createTestClient(server, { requestLock });
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
		const params = await server.authorize(url, { did: alice.did });
		slow = true;
		const controller = new AbortController();
		const calling = client.callback(params, { signal: controller.signal }).catch((err: unknown) => err);
		// the visitor leaves while the lock is being acquired (not at a fixed time, which a loaded
		// machine may reach before the callback asks for the lock)
		await requested;
		controller.abort(new Error('visitor left'));
		expect(await calling).toEqual(new Error('visitor left'));

		let acquiredAtClose: boolean | undefined;
		await client.close().then(() => {
			acquiredAtClose = acquired;
		});
		// the lock's backend was still in use until then: the app closes it only after close()
		expect(acquiredAtClose).toBe(true);
	});

	it('deletes the state of an authorize() that failed once its write lands, and close() waits for it', async () => {
		const { client, states } = await createTestClient(server);
		const set = states.set.bind(states);
		const controller = new AbortController();
		let landWrite = (): void => {};
		let writeReached = (): void => {};
		const writing = new Promise<void>((resolve) => {
			writeReached = resolve;
		});
		// the write takes its time, and the visitor leaves before it lands
		states.set = (key, value) =>
			new Promise<void>((resolve) => {
				landWrite = () => resolve(set(key, value));
				writeReached();
			});
		const calling = client
			.authorize({ target: { type: 'account', identifier: alice.did }, signal: controller.signal })
			.catch((err: unknown) => err);
		// once the write is under way (not at a fixed time, which a loaded machine may reach before
		// authorize() has resolved the account and made its keys)
		await writing;
		controller.abort(new Error('visitor left'));
		expect(await calling).toEqual(new Error('visitor left'));

		let statesAtClose = -1;
		const closing = client.close().then(() => {
			statesAtClose = states.map.size;
		});
		expect(await settledSoon(closing)).toBe(false);
		landWrite();
		await closing;
		// no DPoP private key or PKCE verifier left for a sign-in nobody will finish
		expect(statesAtClose).toBe(0);
		expect(server.stats.par).toBe(0);
	});

	it('deletes the state of an authorize() whose write landed but reported a failure', async () => {
		const { client, states } = await createTestClient(server);
		const set = states.set.bind(states);
		states.set = async (key, value) => {
			await set(key, value);
			throw Object.assign(new Error('the answer was lost'), { transient: true });
		};
		const error = await client
			.authorize({ target: { type: 'account', identifier: alice.did } })
			.catch((err: unknown) => err);
		expect(error).toMatchObject({ message: 'the answer was lost' });
		await client.close();
		expect(states.map.size).toBe(0);
	});
});
