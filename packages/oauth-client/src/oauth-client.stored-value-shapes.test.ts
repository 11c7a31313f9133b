// a stored session read back from a store in odd shapes (what JSON.parse makes of a value another
// writer, or a hand edit, left there): refused as an UnreadableSessionError naming the field,
// never a RangeError, and kept for revoke() to delete
import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { OAuthCallbackError, SessionNotFoundError, UnreadableSessionError } from './errors.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/** 30 000 nested arrays: 60 KB of JSON, which JSON.parse reads and JSON.stringify cannot write. */
const DEEP = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;

/** a store that keeps JSON text, as Redis, SQLite or PostgreSQL do, and parses it on every read. */
class TextStore extends MapStore<StoredSession> {
	readonly texts = new Map<string, string>();
	override async get(key: string): Promise<StoredSession | undefined> {
		const text = this.texts.get(key);
		return text === undefined ? super.get(key) : (JSON.parse(text) as StoredSession);
	}
	override async set(key: string, value: StoredSession): Promise<void> {
		this.texts.delete(key);
		return super.set(key, value);
	}
}

describe('a stored session whose dpopKey has members of odd shapes', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => {
		({ server, alice } = env);
	});

	for (const member of ['alg', 'crv', 'd']) {
		it(`refuses a dpopKey whose ${member} is deeply nested arrays as unreadable, and keeps it`, async () => {
			const sessions = new TextStore();
			const { client, key } = await createTestClient(server, { sessions });
			await signIn(server, client, alice.did);
			const { dpopKey, ...rest } = sessions.map.get(alice.did)!;
			const { [member]: _, ...others } = dpopKey as unknown as Record<string, unknown>;
			const text = `{"dpopKey":${JSON.stringify(others).slice(0, -1)},${JSON.stringify(member)}:${DEEP}},${JSON.stringify(rest).slice(1)}`;
			sessions.texts.set(alice.did, text);

			const { client: reader } = await createTestClient(server, { sessions, key });
			const error = await reader.restore(alice.did).catch((err: unknown) => err);
			expect(error).toBeInstanceOf(UnreadableSessionError);
			expect((error as UnreadableSessionError).problem).toMatch(/^dpopKey/);
			expect(sessions.texts.get(alice.did)).toBe(text);
		});
	}

	it("reads a session whose clientId is deeply nested arrays as another client's, never a RangeError", async () => {
		const sessions = new TextStore();
		const { client, key } = await createTestClient(server, { sessions });
		await signIn(server, client, alice.did);
		const { clientId: _, ...rest } = sessions.map.get(alice.did)!;
		const text = `{"clientId":${DEEP},${JSON.stringify(rest).slice(1)}`;
		sessions.texts.set(alice.did, text);

		const { client: reader } = await createTestClient(server, { sessions, key });
		const error = await reader.restore(alice.did).catch((err: unknown) => err);
		// not a RangeError from String(value.clientId)
		expect(error).toBeInstanceOf(SessionNotFoundError);
		expect(sessions.texts.get(alice.did)).toBe(text);
	});

	it('refuses a session whose scope is not text as unreadable, where session.allows() would throw later', async () => {
		const sessions = new TextStore();
		const { client, key } = await createTestClient(server, { sessions });
		await signIn(server, client, alice.did);
		const stored = sessions.map.get(alice.did)!;
		const text = JSON.stringify({ ...stored, tokenSet: { ...stored.tokenSet, scope: ['atproto'] } });
		sessions.texts.set(alice.did, text);

		const { client: reader } = await createTestClient(server, { sessions, key });
		const error = await reader.restore(alice.did).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(UnreadableSessionError);
		expect((error as UnreadableSessionError).problem).toBe('tokenSet.scope is not a string');
		expect(sessions.texts.get(alice.did)).toBe(text);
	});

	it('refuses a session without a scope as unreadable, where session.allows() threw a bare TypeError', async () => {
		const sessions = new TextStore();
		const { client, key } = await createTestClient(server, { sessions });
		await signIn(server, client, alice.did);
		const { scope: _scope, ...tokenSet } = sessions.map.get(alice.did)!.tokenSet;
		const text = JSON.stringify({ ...sessions.map.get(alice.did)!, tokenSet });
		sessions.texts.set(alice.did, text);

		const { client: reader } = await createTestClient(server, { sessions, key });
		const error = await reader.restore(alice.did).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(UnreadableSessionError);
		expect((error as UnreadableSessionError).problem).toBe('tokenSet.scope is not a string');
		expect(sessions.texts.get(alice.did)).toBe(text);
	});
});

describe('a stored authorization state whose dpopKey has members of odd shapes', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => {
		({ server, alice } = env);
	});

	for (const member of ['alg', 'd']) {
		it(`refuses a state whose dpopKey ${member} is deeply nested arrays as invalid_state`, async () => {
			const states = new MapStore<StoredState>();
			const { client } = await createTestClient(server, {
				stores: { sessions: new MapStore<StoredSession>(), states },
			});
			const { url } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
			const [id, stored] = [...states.map][0]!;
			const { [member]: _, ...others } = stored.dpopKey as unknown as Record<string, unknown>;
			const { dpopKey: __, ...rest } = stored;
			const text = `{"dpopKey":${JSON.stringify(others).slice(0, -1)},${JSON.stringify(member)}:${DEEP}},${JSON.stringify(rest).slice(1)}`;
			// a store that keeps JSON text hands back what JSON.parse makes of it
			states.take = (key) => (key === id ? (JSON.parse(text) as StoredState) : undefined);
			const error = await client.callback(await server.authorize(url, { did: alice.did })).catch((e) => e);
			// today: RangeError: Maximum call stack size exceeded
			expect(error).toBeInstanceOf(OAuthCallbackError);
			expect(error.error).toBe('invalid_state');
			expect(server.stats.token.authorization_code).toBe(0);
		});
	}
});
