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

describe('a tracer whose trace() returns no promise, once', () => {
	let server: TestOAuthServer;
	useTestServer((env) => {
		({ server } = env);
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
});
