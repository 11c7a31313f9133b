import { createHash } from 'node:crypto';

import type { Did } from '@atcute/lexicons';
import { generatePrivateKey } from '@atcute/oauth-keys';
import { describe, expect, it } from 'vitest';

import { AuthMethodUnsatisfiableError, UnreadableSessionError } from './errors.ts';
import type { OAuthSessionEvent } from './session-events.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

// new key material given the kid of a key in use: the server holds each grant to the key it was
// made with, so a session bound to the old material can never refresh with the new
describe('a session whose client key was replaced under the same kid', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => ({ server, alice } = env));

	/** alice signed in with key "main"; then a client whose "main" is other key material, on the same stores. */
	const replacedKey = async () => {
		const first = await createTestClient(server);
		await signIn(server, first.client, alice.did);
		const replaced = await createTestClient(server, {
			key: await generatePrivateKey('main'),
			sessions: first.sessions,
		});
		const events: OAuthSessionEvent[] = [];
		replaced.client.addEventListener((event) => void events.push(event));
		return { first, replaced, events };
	};

	/** a sign-in started with key "main" on shared stores, the user's consent given: the callback's params. */
	const signInUntilCallback = async () => {
		const stores = { sessions: new MapStore<StoredSession>(), states: new MapStore<StoredState>() };
		const { client, key, clock } = await createTestClient(server, { stores });
		const { url } = await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		return { stores, key, clock, params: await server.authorize(url, { did: alice.did }) };
	};

	it('ends the session at restore() with AuthMethodUnsatisfiableError (replaced), sending nothing', async () => {
		const { first, replaced, events } = await replacedKey();
		const requests = server.stats.requests.length;

		const error = await replaced.client.restore(alice.did).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(AuthMethodUnsatisfiableError);
		expect(error).toMatchObject({ did: alice.did, kid: 'main', replaced: true });
		expect((error as Error).message).toBe(
			`the session of ${alice.did} is bound to key "main" as it was when it signed in; the keyset's key "main" is other key material (a kid given to a new key)`,
		);
		expect(first.sessions.map.has(alice.did)).toBe(false);
		expect(events).toEqual([{ type: 'deleted', sub: alice.did, cause: 'key_removed' }]);
		expect(server.stats.requests.length).toBe(requests);
	});

	it('ends it the same way at a refresh of a session object the old key made', async () => {
		const { first, replaced } = await replacedKey();
		// a refresh that reads the session under the new keyset: through the new client
		const error = await replaced.client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(AuthMethodUnsatisfiableError);
		expect(error).toMatchObject({ replaced: true });
		expect(server.stats.refreshAttempts).toBe(0);
		expect(first.sessions.map.has(alice.did)).toBe(false);
	});

	it('keeps a session stored without a thumbprint (an earlier release) bound by its kid alone', async () => {
		const { first, replaced } = await replacedKey();
		const stored = first.sessions.map.get(alice.did)!;
		const { jkt: _jkt, ...byKid } = stored.authMethod as {
			method: 'private_key_jwt';
			kid: string;
			jkt?: string;
		};
		first.sessions.map.set(alice.did, { ...stored, authMethod: byKid });

		const session = await replaced.client.restore(alice.did);
		expect(session.did).toBe(alice.did);
		expect(first.sessions.map.has(alice.did)).toBe(true);
	});

	it('still restores with the same key material, imported again', async () => {
		const { client, sessions, key } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const again = await createTestClient(server, { key, sessions });
		const session = await again.client.restore(alice.did, { refresh: true });
		expect(session.did).toBe(alice.did);
		expect(server.stats.token.refresh_token).toBe(1);
		server.assertNoRejections();
	});

	it('puts a sign-in’s state back at a callback on a process whose key of that kid is other material', async () => {
		const { stores, key, clock, params } = await signInUntilCallback();
		const { client: other } = await createTestClient(server, {
			stores,
			clock,
			key: await generatePrivateKey('main'),
		});

		const error = await other.callback(params).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(AuthMethodUnsatisfiableError);
		expect((error as Error).message).toMatch(
			/^the sign-in of \S+ was started with key "main", which this process's keyset holds as other key material$/,
		);
		expect(server.stats.token.authorization_code).toBe(0);
		expect(stores.states.map.size).toBe(1);

		const { client: original } = await createTestClient(server, { stores, clock, key });
		expect((await original.callback(params)).session.did).toBe(alice.did);
	});

	it('refuses a stored thumbprint that is not a string as an unreadable session', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const stored = sessions.map.get(alice.did)!;
		sessions.map.set(alice.did, { ...stored, authMethod: { ...stored.authMethod, jkt: 42 } as never });
		const error = await client.restore(alice.did).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(UnreadableSessionError);
		expect(error).toMatchObject({ problem: 'authMethod.jkt is not a string' });
	});

	it('computes the keyset’s thumbprints again after a hash that failed', async () => {
		let fail = true;
		const { client } = await createTestClient(server, {
			sha256: (text) => {
				if (fail) throw new Error('hash unavailable');
				return createHash('sha256').update(text).digest('base64url');
			},
		});
		const target = { type: 'account', identifier: 'alice.test' } as const;
		await expect(client.authorize({ target })).rejects.toThrow('hash unavailable');
		fail = false;
		const { session } = await signIn(server, client, alice.did);
		expect(session.did).toBe(alice.did);
	});

	it('binds by kid alone when the app’s sha256 fails at a callback, a refresh or a sign-out: nothing is lost', async () => {
		const { stores, key, clock, params } = await signInUntilCallback();
		// another process with the same key, whose own sha256 fails for the thumbprint's input
		const { client: other } = await createTestClient(server, {
			stores,
			clock,
			key,
			sha256: (text) => {
				if (text.startsWith('{')) throw new Error('hash unavailable');
				return createHash('sha256').update(text).digest('base64url');
			},
		});
		expect((await other.callback(params)).session.did).toBe(alice.did);
		await other.restore(alice.did, { refresh: true });
		expect(server.stats.token.refresh_token).toBe(1);
		await other.revoke(alice.did);
		expect(server.stats.revokedSessions).toBe(1);
	});
});
