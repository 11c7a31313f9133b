import { describe, expect, it } from 'vitest';

import type { StateStore, StoredSession, StoredState } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import {
	createTestClient,
	type TestAccount,
	type TestOAuthServer,
	useTestServer,
} from './test-utils/setup.ts';

/** a caller without types: what JavaScript can pass. */
const loose = <T>(value: unknown): T => value as T;

describe('authorize({ state }) that is not JSON-safe', () => {
	let server: TestOAuthServer;
	let alice: TestAccount;
	useTestServer((env) => ({ server, alice } = env));

	const circular: Record<string, unknown> = { a: 1 };
	circular.self = circular;

	for (const [label, state, path] of [
		['a bigint', 1n, 'state'],
		['a bigint inside', { user: { id: 12345678901234567890n } }, 'state.user.id'],
		['a function', { next: () => '/x' }, 'state.next'],
		['a Date (it would come back a string from a JSON store)', { at: new Date(0) }, 'state.at'],
		['a Map (it would come back {})', new Map([['a', 1]]), 'state'],
		['NaN (it would come back null)', { n: Number.NaN }, 'state.n'],
		['a circular object', circular, 'state.self'],
	] as const) {
		it(`refuses ${label} with a TypeError naming ${path}, before anything is sent or stored`, async () => {
			let fetched = 0;
			const { client, states } = await createTestClient(server, {
				fetch: (input, init) => {
					fetched += 1;
					return fetch(input, init);
				},
			});
			const error = await client
				.authorize({ target: { type: 'account', identifier: 'alice.test' }, state: loose(state) })
				.catch((err: unknown) => err);
			expect(error).toBeInstanceOf(TypeError);
			expect((error as Error).message).toContain(`authorize(options).${path}`);
			expect(fetched).toBe(0);
			expect(states.calls).toEqual([]);
			expect(server.stats.par).toBe(0);
		});
	}

	it('still takes JSON data, undefined members included (dropped, as JSON drops them)', async () => {
		const { client } = await createTestClient(server);
		const { url } = await client.authorize({
			target: { type: 'account', identifier: 'alice.test' },
			state: { returnTo: '/x', n: 1.5, ok: true, none: null, list: [1, 'a', { b: [] }], optional: undefined },
		});
		expect(url.searchParams.get('request_uri')).toBeTruthy();
		const plain = await client.authorize({
			target: { type: 'account', identifier: 'alice.test' },
			state: Object.assign(Object.create(null), { a: 1 }),
		});
		expect(plain.url.searchParams.get('request_uri')).toBeTruthy();
	});

	it('hands back the state as it was given, though the app changed its object since (a store that keeps values by reference, as MemoryStore does)', async () => {
		// kept as given, not copied: MemoryStore's default
		const kept = new Map<string, StoredState>();
		const states: StateStore = {
			get: (key) => kept.get(key),
			set: (key, value) => void kept.set(key, value),
			delete: (key) => void kept.delete(key),
			clear: () => kept.clear(),
		};
		const { client } = await createTestClient(server, {
			stores: { sessions: new MapStore<StoredSession>(), states },
		});
		const state = { returnTo: '/x', tags: ['a'] };
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.did }, state });
		// the app reuses its object for the next visitor
		state.returnTo = '/elsewhere';
		state.tags.push('b');
		const result = await client.callback(await server.authorize(url, { did: alice.did }));
		// was: { returnTo: '/elsewhere', tags: ['a', 'b'] }, the app's object itself
		expect(result.state).toEqual({ returnTo: '/x', tags: ['a'] });
		expect(result.state).not.toBe(state);
	});
});
