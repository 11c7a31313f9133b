import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import type { StateStore, StoredSession, StoredState } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import { afterTurns, deferred, pathOf } from './test-utils/promises.ts';
import { type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/**
 * a state store over `inner` whose writes wait, once `stalls.stall` is set, until its `release`
 * (a store whose connection is down), telling `started` as each begins.
 */
const stallingStates = () => {
	const inner = new MapStore<StoredState>();
	const stalls: { stall?: { started: () => void; release: Promise<void> } | undefined } = {};
	const states: StateStore = {
		get: (key) => inner.get(key),
		set: async (key, value) => {
			const { stall } = stalls;
			if (stall !== undefined) {
				stall.started();
				await stall.release;
			}
			return inner.set(key, value);
		},
		delete: (key) => inner.delete(key),
		take: (key) => inner.take!(key),
		clear: () => inner.clear(),
	};
	return { inner, states, stalls };
};

/**
 * `callback(params, { signal })` aborted before the code is sent puts the state back. the caller's
 * signal bounds the state store's calls (a store with no time limit of its own, its connection
 * down): the put-back goes on without the caller, who is let go with its reason at once.
 */
describe('OAuthClient.callback aborted before the code is sent, the state store stalling', () => {
	let server: TestOAuthServer;
	let alice: { did: Did };
	let createTestClient: Parameters<Parameters<typeof useTestServer>[0]>[0]['createTestClient'];
	useTestServer((env) => {
		({ server, alice, createTestClient } = env);
	});

	it("rejects with the signal's reason without waiting for the put-back, which then lands", async () => {
		const { inner, states, stalls } = stallingStates();
		// the sign-in starts in one process; the callback reaches another, which has not yet read the
		// authorization server's metadata
		const { client: first, key } = await createTestClient(server, {
			stores: { sessions: new MapStore<StoredSession>(), states },
		});
		const { url } = await first.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		const params = await server.authorize(url, { did: alice.did });

		const controller = new AbortController();
		const reason = new Error('the visitor went away');
		const fetch: typeof globalThis.fetch = (input, init) => {
			// the caller gives up as the metadata is asked for: before the code is sent
			if (pathOf(input) === '/.well-known/oauth-authorization-server') controller.abort(reason);
			return globalThis.fetch(input, init);
		};
		const { client: second } = await createTestClient(server, {
			key,
			stores: { sessions: new MapStore<StoredSession>(), states },
			fetch,
		});

		const writing = deferred();
		const release = deferred();
		stalls.stall = { started: writing.resolve, release: release.promise };
		let outcome: unknown = 'still waiting';
		const calling = second.callback(params, { signal: controller.signal }).then(
			() => (outcome = 'resolved'),
			(err: unknown) => (outcome = err),
		);

		// the put-back has begun, and the store does not answer it
		await writing.promise;
		await afterTurns(20);
		expect(outcome).toBe(reason);

		// the store answers: the state is back, and the same callback completes
		release.resolve();
		await calling;
		stalls.stall = undefined;
		await second.close();
		expect(inner.map.size).toBe(1);
		const { session } = await first.callback(params);
		expect(session.did).toBe(alice.did);
	});
});

/**
 * the README: "aborted before the code is sent ... the call rejects at once, and a store that
 * stalls taking the state or writing it back does not hold it". a transient failure (the server's
 * metadata answering 503) puts the state back; the caller who gives up while that write stalls is
 * still before the code is sent, and must be let go with its reason.
 */
describe('OAuthClient.callback aborted while the state is being put back after a transient failure', () => {
	let server: TestOAuthServer;
	let alice: { did: Did };
	let createTestClient: Parameters<Parameters<typeof useTestServer>[0]>[0]['createTestClient'];
	useTestServer((env) => {
		({ server, alice, createTestClient } = env);
	});

	it("rejects with the signal's reason without waiting for the stalled write", async () => {
		const { inner, states, stalls } = stallingStates();
		const { client: first, key } = await createTestClient(server, {
			stores: { sessions: new MapStore<StoredSession>(), states },
		});
		const { url } = await first.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		const params = await server.authorize(url, { did: alice.did });

		// the process the callback reaches finds the authorization server's metadata out of reach
		const fetch: typeof globalThis.fetch = (input, init) => {
			if (pathOf(input) === '/.well-known/oauth-authorization-server') {
				return Promise.resolve(new Response('busy', { status: 503 }));
			}
			return globalThis.fetch(input, init);
		};
		const { client: second } = await createTestClient(server, {
			key,
			stores: { sessions: new MapStore<StoredSession>(), states },
			fetch,
		});

		const writing = deferred();
		const release = deferred();
		stalls.stall = { started: writing.resolve, release: release.promise };
		const controller = new AbortController();
		let outcome: unknown = 'still waiting';
		const calling = second.callback(params, { signal: controller.signal }).then(
			() => (outcome = 'resolved'),
			(err: unknown) => (outcome = err),
		);

		// the put-back has begun and the store does not answer; the caller gives up now
		await writing.promise;
		const reason = new Error('the visitor went away');
		controller.abort(reason);
		await afterTurns(20);
		const seen = outcome;
		release.resolve();
		await calling;
		expect(seen).toBe(reason);

		stalls.stall = undefined;
		await second.close();
		expect(inner.map.size).toBe(1);
		const { session } = await first.callback(params);
		expect(session.did).toBe(alice.did);
	});
});
