// records a newer release of this library stored, met by this one (a rolling deploy shares one
// store between processes of two versions for minutes or hours; a rollback brings the older one
// back to what the newer wrote): what this version cannot read faithfully is refused and left in
// place for a process that can, never used under the wrong meaning, rewritten or spent
import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { OAuthCallbackError, UnreadableSessionError } from './errors.ts';
import type { StoreSetOptions } from './store.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/** a state store that records the expiry each entry was last set with. */
class ExpiringMapStore extends MapStore<StoredState> {
	readonly expiries = new Map<string, number | undefined>();
	override async set(key: string, value: StoredState, options?: StoreSetOptions): Promise<void> {
		this.expiries.set(key, options?.expiresAt);
		return super.set(key, value);
	}
}

/**
 * the same entries as `states`, read the way a newer release reads its own format: what this
 * version's states store would be in the process of that release.
 */
const readAsNewerRelease = (
	states: MapStore<StoredState>,
	toCurrent: (value: Record<string, unknown>) => StoredState,
): MapStore<StoredState> => {
	const view = new MapStore<StoredState>();
	view.take = (key) => {
		const value = states.map.get(key);
		states.map.delete(key);
		return value === undefined ? undefined : toCurrent(value as unknown as Record<string, unknown>);
	};
	view.set = (key, value) => states.set(key, value);
	view.delete = (key) => states.delete(key);
	return view;
};

describe('a session stored by a newer release in a format this one does not read', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => {
		({ server, alice } = env);
	});

	it('refuses a session whose format version (v) is newer as unreadable, sends nothing and leaves it as it is', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const newer = { ...sessions.map.get(alice.did)!, v: 2 } as unknown as StoredSession;
		sessions.map.set(alice.did, newer);
		const requests = server.stats.token.refresh_token;

		for (const refresh of ['auto', true] as const) {
			const error = await client.restore(alice.did, { refresh }).catch((err: unknown) => err);
			expect(error).toBeInstanceOf(UnreadableSessionError);
			expect((error as UnreadableSessionError).problem).toMatch(/newer format/);
		}
		// not refreshed, so not rewritten as this version's tokenSet beside the newer release's fields
		expect(sessions.map.get(alice.did)).toEqual(newer);
		expect(server.stats.token.refresh_token).toBe(requests);
	});

	it('reads a session without a format version, or with version 1, as every release so far stored it', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const stored = sessions.map.get(alice.did)!;
		expect('v' in stored).toBe(false);
		sessions.map.set(alice.did, { ...stored, v: 1 } as StoredSession);
		const restored = await client.restore(alice.did, { refresh: true });
		expect(restored.did).toBe(alice.did);
		expect(server.stats.token.refresh_token).toBe(1);
	});
});

describe('an authorization state stored by a newer release in a format this one does not read', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => {
		({ server, alice } = env);
	});

	const startSignIn = async () => {
		const states = new ExpiringMapStore();
		const test = await createTestClient(server);
		const client = (
			await createTestClient(server, {
				key: test.key,
				clock: test.clock,
				stores: { sessions: test.sessions, states },
			})
		).client;
		const { url } = await client.authorize({
			target: { type: 'account', identifier: 'alice.test' },
			state: { returnTo: '/protected' },
		});
		const stateId = [...states.map.keys()][0]!;
		const expiresAt = states.expiries.get(stateId);
		const params = await server.authorize(url, { did: alice.did });
		return { ...test, client, states, stateId, expiresAt, params };
	};

	it('refuses a state whose format version (v) is newer as invalid_state, exchanges no code, and puts it back with its expiry', async () => {
		const { client, states, stateId, expiresAt, params, key, clock, sessions } = await startSignIn();
		const newer = { ...states.map.get(stateId)!, v: 2 } as unknown as StoredState;
		states.map.set(stateId, newer);

		const error = await client.callback(params).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(OAuthCallbackError);
		expect((error as OAuthCallbackError).error).toBe('invalid_state');
		expect((error as OAuthCallbackError).message).toMatch(/newer format/);
		expect(server.stats.token.authorization_code).toBe(0);
		expect(states.map.get(stateId)).toEqual(newer);
		expect(states.expiries.get(stateId)).toBe(expiresAt);

		// the same callback (a reload) reaching a process of the newer release completes the sign-in
		const { v: _, ...current } = newer as StoredState & { v: number };
		const { client: newerProcess } = await createTestClient(server, {
			key,
			clock,
			stores: { sessions, states: readAsNewerRelease(states, () => current) },
		});
		const { session } = await newerProcess.callback(params);
		expect(session.did).toBe(alice.did);
		expect(states.map.size).toBe(0);
	});

	it('puts back a newer-format state that its store handed over after the caller left, with its expiry', async () => {
		const { client, states, stateId, expiresAt, params } = await startSignIn();
		const newer = { ...states.map.get(stateId)!, v: 2 } as unknown as StoredState;
		states.map.set(stateId, newer);
		// the caller leaves while the store takes the state (a deadline, a closed tab)
		const controller = new AbortController();
		const reason = new Error('visitor left');
		const take = states.take!;
		states.take = (key) => {
			controller.abort(reason);
			return take(key);
		};

		const error = await client.callback(params, { signal: controller.signal }).catch((err: unknown) => err);
		expect(error).toBe(reason);
		// the put-back of the late take is work close() waits for: settled once it resolves
		await client.close();
		expect(server.stats.token.authorization_code).toBe(0);
		// as when it is read in the caller's time: back for a process of the release that reads it
		expect(states.map.get(stateId)).toEqual(newer);
		expect(states.expiries.get(stateId)).toBe(expiresAt);
	});

	it('puts back a state whose fields it cannot read (a newer release renamed one), so a process that reads them completes the same callback', async () => {
		const { client, states, stateId, expiresAt, params, key, clock, sessions } = await startSignIn();
		// the newer release keeps the PKCE verifier under another name
		const { verifier, ...rest } = states.map.get(stateId)!;
		const renamed = { ...rest, pkce: { verifier } };
		states.map.set(stateId, renamed as unknown as StoredState);

		const error = await client.callback(params).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(OAuthCallbackError);
		expect((error as OAuthCallbackError).error).toBe('invalid_state');
		expect(server.stats.token.authorization_code).toBe(0);
		expect(states.map.get(stateId)).toEqual(renamed);
		expect(states.expiries.get(stateId)).toBe(expiresAt);

		const { client: newerProcess } = await createTestClient(server, {
			key,
			clock,
			stores: {
				sessions,
				states: readAsNewerRelease(states, ({ pkce, ...others }) => ({
					...(others as unknown as StoredState),
					verifier: (pkce as { verifier: string }).verifier,
				})),
			},
		});
		const { session } = await newerProcess.callback(params);
		expect(session.did).toBe(alice.did);
	});
});
