import { AsyncLocalStorage } from 'node:async_hooks';

import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import type { LockFunction } from './lock.ts';
import type { StoredSession } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';
import type { OAuthTracer } from './tracer.ts';

/** what an app keeps per request: its id. */
const als = new AsyncLocalStorage<{ requestId: string }>();
const current = (): string => als.getStore()?.requestId ?? 'none';

/** a session store that notes, for each call, the request it ran in and the account it was for. */
class ContextStore extends MapStore<StoredSession> {
	readonly seen: string[] = [];
	override async get(key: string) {
		this.seen.push(`get ${key} ${current()}`);
		return super.get(key);
	}
	override async set(key: string, value: StoredSession) {
		this.seen.push(`set ${key} ${current()}`);
		return super.set(key, value);
	}
}

describe("OAuthClient app callbacks and the caller's async context", () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => ({ server, alice } = env));

	it("runs each account's store, lock, fetch, tracer and listeners in the context of the request that refreshed it", async () => {
		const bob = server.createAccount({ handle: 'bob.test' }) as { did: Did };
		const sessions = new ContextStore();
		const seen: string[] = [];
		const lock: LockFunction = async (name, fn) => {
			seen.push(`lock ${name.slice('oauth-session-'.length)} ${current()}`);
			return fn();
		};
		const tracer: OAuthTracer = {
			trace: (operation, context, fn) => {
				seen.push(`trace ${operation} ${'sub' in context ? context.sub : ''} ${current()}`);
				return fn();
			},
		};
		const fetched: string[] = [];
		const { client } = await createTestClient(server, {
			sessions,
			requestLock: lock,
			tracer,
			fetch: (input, init) => {
				fetched.push(current());
				return fetch(input, init);
			},
		});
		await signIn(server, client, alice.did);
		await signIn(server, client, bob.did);
		const events: string[] = [];
		client.addEventListener((event) => void events.push(`${event.type} ${event.sub} ${current()}`));
		sessions.seen.length = 0;
		seen.length = 0;
		fetched.length = 0;

		const after: string[] = [];
		const request = (requestId: string, did: Did) =>
			als.run({ requestId }, async () => {
				await client.restore(did, { refresh: true });
				after.push(`${requestId} ${current()}`);
			});
		await Promise.all([request('A', alice.did), request('B', bob.did)]);

		expect(after.sort()).toEqual(['A A', 'B B']);
		await expect.poll(() => events.length).toBe(2);
		expect(events.sort()).toEqual([`updated ${alice.did} A`, `updated ${bob.did} B`].sort());
		for (const line of [...sessions.seen, ...seen]) {
			expect(line.endsWith(line.includes(alice.did) ? ' A' : ' B'), line).toBe(true);
		}
		expect(new Set(fetched)).toEqual(new Set(['A', 'B']));
	});

	it('runs a refresh two requests share in the context of the request that started it, and hands each caller back its own', async () => {
		const sessions = new ContextStore();
		const seen: string[] = [];
		const { client } = await createTestClient(server, {
			sessions,
			requestLock: async (_name, fn) => {
				seen.push(`lock ${current()}`);
				return fn();
			},
			fetch: (input, init) => {
				seen.push(`fetch ${current()}`);
				return fetch(input, init);
			},
		});
		await signIn(server, client, alice.did);
		const events: string[] = [];
		client.addEventListener((event) => void events.push(`${event.type} ${current()}`));
		sessions.seen.length = 0;
		seen.length = 0;

		const after: string[] = [];
		const request = (requestId: string) =>
			als.run({ requestId }, async () => {
				await client.restore(alice.did, { refresh: true });
				after.push(`${requestId} ${current()}`);
			});
		// A starts the refresh; C, a moment later, shares it (one refresh token spent, not two)
		await Promise.all([request('A'), request('C')]);

		expect(after.sort()).toEqual(['A A', 'C C']);
		await expect.poll(() => events).toEqual(['updated A']);
		// each request's own read of the session is its own; the refresh they share (lock, re-read,
		// token request, write) is A's, as the README says ("which context callbacks run in")
		const did = alice.did;
		expect(sessions.seen.sort()).toEqual([`get ${did} A`, `get ${did} A`, `get ${did} C`, `set ${did} A`]);
		expect(seen.filter((line) => !line.endsWith(' A'))).toEqual([]);
		expect(seen).toContain('lock A');
	});
});
