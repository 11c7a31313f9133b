import type { Did } from '@atcute/lexicons';
import { afterEach, describe, expect, it } from 'vitest';

import { createTestClient, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';
import type { OAuthTracer } from './tracer.ts';

// a close() left waiting on a non-promise spins the microtask queue for ever (no timer ever
// fires again, not even vitest's own test timeout): Promise.allSettled is guarded so a stuck
// drain throws out instead of hanging the worker
const allSettled = Promise.allSettled.bind(Promise);
let calls = 0;
afterEach(() => {
	Promise.allSettled = allSettled;
});
const guardAllSettled = () => {
	calls = 0;
	Promise.allSettled = ((values: Iterable<unknown>) => {
		if (++calls > 1000) throw new Error('close() is still draining after 1000 rounds: stuck');
		return allSettled(values);
	}) as typeof Promise.allSettled;
};

describe('a tracer whose trace() returns no promise', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	useTestServer((env) => {
		({ server, alice } = env);
	});

	it('leaves no work counted for ever: close() still resolves', async () => {
		let broken = true;
		const tracer: OAuthTracer = {
			trace: ((_operation: string, _context: unknown, fn: () => Promise<unknown>) => {
				if (broken) {
					broken = false;
					// a buggy tracer: runs fn but hands back no promise
					fn().catch(() => {});
					return undefined;
				}
				return fn();
			}) as OAuthTracer['trace'],
		};
		const { client } = await createTestClient(server, { tracer });
		// the failure, whatever form it takes (thrown or rejected)
		await (async () => client.authorize({ target: { type: 'account', identifier: 'alice.test' } }))().catch(
			() => {},
		);
		// the fault is gone: the same call works
		const { url } = await client.authorize({ target: { type: 'account', identifier: 'alice.test' } });
		expect(url).toBeInstanceOf(URL);

		guardAllSettled();
		await expect(client.close()).resolves.toBeUndefined();
	});

	it('still has its work counted: close() waits for a sign-in on its way to the store', async () => {
		// a tracer that runs the callback's work but hands back nothing
		const tracer: OAuthTracer = {
			trace: ((operation: string, _context: unknown, fn: () => Promise<unknown>) => {
				if (operation !== 'callback') return fn();
				fn().catch(() => {});
				return undefined;
			}) as OAuthTracer['trace'],
		};
		// the token request is held until the test lets it go
		let tokenArrived!: () => void;
		const arrived = new Promise<void>((resolve) => (tokenArrived = resolve));
		let releaseToken!: () => void;
		const released = new Promise<void>((resolve) => (releaseToken = resolve));
		const { client, sessions } = await createTestClient(server, {
			tracer,
			fetch: async (input, init) => {
				if (new URL(input instanceof Request ? input.url : String(input)).pathname === '/oauth/token') {
					tokenArrived();
					await released;
				}
				return fetch(input, init);
			},
		});
		const { url } = await client.authorize({ target: { type: 'account', identifier: alice.did } });
		const params = await server.authorize(url, { did: alice.did });

		const calling = client.callback(params);
		// a promise, not what the tracer handed back
		expect(calling).toBeInstanceOf(Promise);
		await arrived;
		let storedAtClose: unknown;
		const closing = client.close().then(() => {
			storedAtClose = sessions.map.get(alice.did);
		});
		releaseToken();
		await closing;
		// close() resolved once the sign-in was stored, not while it was on its way
		expect(storedAtClose).toBeDefined();
		await expect(calling).resolves.toMatchObject({ session: { did: alice.did } });
	});
});
