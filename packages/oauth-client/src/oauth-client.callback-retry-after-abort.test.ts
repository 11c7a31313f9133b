import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import type { StateStore, StoredSession, StoredState } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import { deferred, settled } from './test-utils/promises.ts';
import { type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/**
 * a callback whose caller gives up while the state store is still answering puts the state back
 * once the store answers, so that the same callback (a reload) can complete. a reload that comes
 * while the store still answers the first must not find the state gone: it waits for it to be back.
 */
describe('OAuthClient.callback again while an aborted callback still takes the state', () => {
	let server: TestOAuthServer;
	let alice: { did: Did };
	let createTestClient: Parameters<Parameters<typeof useTestServer>[0]>[0]['createTestClient'];
	useTestServer((env) => {
		({ server, alice, createTestClient } = env);
	});

	/**
	 * a state store whose first call of `method` is held: a `take` does its work at once but answers
	 * only once `release` resolves (as Redis's GETDEL runs, its reply slow); a `get` runs only then.
	 * `started` is told when that call comes. `map` holds what is stored.
	 */
	const heldStore = (method: 'take' | 'get', gate: { started: () => void; release: Promise<void> }) => {
		const inner = new MapStore<StoredState>({ atomicTake: false });
		let held = true;
		/** whether this call is the one held (it tells `started`). */
		const holds = () => {
			if (!held) return false;
			held = false;
			gate.started();
			return true;
		};
		const states: StateStore = {
			get: async (key) => {
				if (method === 'get' && holds()) await gate.release;
				return inner.get(key);
			},
			set: (key, value) => inner.set(key, value),
			delete: (key) => inner.delete(key),
			clear: () => inner.clear(),
		};
		if (method === 'take') {
			states.take = async (key) => {
				const value = inner.map.get(key);
				inner.map.delete(key);
				if (holds()) await gate.release;
				return value;
			};
		}
		return { states, map: inner.map };
	};

	it.each(['take', 'get'] as const)(
		'completes the reload once the state is back, with a store answering %s late',
		async (method) => {
			const started = deferred();
			const release = deferred();
			const { states, map } = heldStore(method, { started: started.resolve, release: release.promise });
			const sessions = new MapStore<StoredSession>();
			const { client } = await createTestClient(server, { stores: { sessions, states } });
			const { url } = await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
			const params = await server.authorize(url, { did: alice.did });

			const controller = new AbortController();
			const first = settled(client.callback(params, { signal: controller.signal }));
			await started.promise;
			const reason = new Error('the visitor went away');
			controller.abort(reason);
			expect(await first).toBe(reason);

			// the reload, while the store still answers the first callback
			const reload = settled(client.callback(params));
			release.resolve();
			const result = await reload;
			expect(result).toMatchObject({ session: { did: alice.did } });
			expect(map.size).toBe(0);
			await client.close();
			expect(map.size).toBe(0);
			expect(sessions.map.has(alice.did)).toBe(true);
		},
	);
});
