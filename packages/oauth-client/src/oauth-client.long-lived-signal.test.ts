import { getEventListeners } from 'node:events';

import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { createTestClient, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/**
 * the signals derived from `signal` that it still holds (Node's own record of
 * `AbortSignal.any([signal, ...])`, which on Node 20 is never pruned), or 0 where Node keeps none.
 */
const dependantsOf = (signal: AbortSignal): number => {
	const key = Object.getOwnPropertySymbols(signal).find(
		(symbol) => symbol.description === 'kDependantSignals',
	);
	const dependants = key === undefined ? undefined : (signal as unknown as Record<symbol, unknown>)[key];
	// Node's own (a set of another realm than the test's: read by its size)
	const size = (dependants as { size?: unknown } | undefined)?.size;
	return typeof size === 'number' ? size : 0;
};

describe('a signal as long-lived as the app (a shutdown signal) given to every call', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => {
		({ server, alice } = env);
	});

	it('holds nothing of the sign-ins it was given to, once they are done', async () => {
		const shutdown = new AbortController().signal;
		const { client } = await createTestClient(server);
		for (let i = 0; i < 5; i++) {
			const { url } = await client.authorize({
				target: { type: 'account', identifier: alice.handle },
				signal: shutdown,
			});
			const params = await server.authorize(url, { did: alice.did });
			await client.callback(params, { signal: shutdown });
		}
		// on Node 20, AbortSignal.any kept two entries a sign-in here, for the signal's life
		expect(dependantsOf(shutdown)).toBe(0);
		expect(getEventListeners(shutdown, 'abort')).toHaveLength(0);
		// and it still reaches a call in flight
		const aborting = new AbortController();
		const pending = client.authorize({
			target: { type: 'account', identifier: alice.handle },
			signal: aborting.signal,
		});
		aborting.abort(new Error('shutting down'));
		await expect(pending).rejects.toThrow('shutting down');
	});
});
