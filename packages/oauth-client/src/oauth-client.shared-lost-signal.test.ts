// a requestLock may give every holding the same `lost` signal (one tied to its connection, or the
// app's shutdown signal): each sign-in and refresh must leave nothing on it once it is over
import { getEventListeners } from 'node:events';

import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import type { LockFunction } from './lock.ts';
import { createTestClient, signIn, type TestOAuthServer, useTestServer } from './test-utils/setup.ts';

/** a lock that runs one holder at a time and hands each the same `lost` signal. */
const lockWithOneLostSignal = (lost: AbortSignal): LockFunction => {
	let tail: Promise<unknown> = Promise.resolve();
	return (_name, fn) => {
		const run = tail.then(() => fn(lost));
		tail = run.catch(() => {});
		return run;
	};
};

describe('a requestLock that gives every holding the same lost signal', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };

	useTestServer((env) => {
		({ server, alice } = env);
	});

	it('holds no listener on it once the sign-in and the refreshes are done', async () => {
		const lost = new AbortController().signal;
		const { client } = await createTestClient(server, { requestLock: lockWithOneLostSignal(lost) });
		const { session } = await signIn(server, client, alice.did);
		for (let i = 0; i < 20; i++) await session.refresh();
		expect(getEventListeners(lost, 'abort')).toHaveLength(0);
	});
});
