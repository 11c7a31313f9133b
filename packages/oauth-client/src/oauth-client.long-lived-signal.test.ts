import { getEventListeners } from 'node:events';

import { LocalActorResolver } from '@atcute/identity-resolver';
import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import {
	actorResolverFor,
	createTestClient,
	signIn,
	type TestOAuthServer,
	useTestServer,
} from './test-utils/setup.ts';

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

/** the `MaxListenersExceededWarning`s Node emits while `run` runs (and on the tick after it). */
const leakWarningsDuring = async (run: () => Promise<void>): Promise<Error[]> => {
	const warnings: Error[] = [];
	const onWarning = (warning: Error) => {
		if (warning.name === 'MaxListenersExceededWarning') warnings.push(warning);
	};
	process.on('warning', onWarning);
	try {
		await run();
		// a warning is emitted on the next tick
		await new Promise((resolve) => setImmediate(resolve));
	} finally {
		process.off('warning', onWarning);
	}
	return warnings;
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

	it('holds one listener on it however many calls are in flight, and no leak warning', async () => {
		const IN_FLIGHT = 12;
		const upstream = actorResolverFor(server);
		// every handle lookup waits until all of them are in flight together
		let arrived = 0;
		let release!: () => void;
		const allIn = new Promise<void>((resolve) => {
			release = resolve;
		});
		let inFlight!: () => void;
		const allWaiting = new Promise<void>((resolve) => {
			inFlight = resolve;
		});
		const actorResolver = new LocalActorResolver({
			handleResolver: {
				resolve: async (handle, options) => {
					if (++arrived === IN_FLIGHT) inFlight();
					await allIn;
					return upstream.handleResolver.resolve(handle, options);
				},
			},
			didDocumentResolver: upstream.didDocumentResolver,
		});
		const { client } = await createTestClient(server, { actorResolver });
		const warnings = await leakWarningsDuring(async () => {
			const shutdown = new AbortController().signal;
			const signIns = Array.from({ length: IN_FLIGHT }, () =>
				client.authorize({ target: { type: 'account', identifier: alice.handle }, signal: shutdown }),
			);
			await allWaiting;
			expect(getEventListeners(shutdown, 'abort')).toHaveLength(1);
			release();
			await Promise.all(signIns);
			expect(getEventListeners(shutdown, 'abort')).toHaveLength(0);
		});
		expect(warnings).toEqual([]);
	});

	it('aborts every call in flight on it when it aborts', async () => {
		const upstream = actorResolverFor(server);
		const actorResolver = new LocalActorResolver({
			// a lookup that never answers: only the abort ends it
			handleResolver: { resolve: () => new Promise(() => {}) },
			didDocumentResolver: upstream.didDocumentResolver,
		});
		const { client } = await createTestClient(server, { actorResolver });
		const controller = new AbortController();
		const signIns = Array.from({ length: 3 }, () =>
			client
				.authorize({ target: { type: 'account', identifier: alice.handle }, signal: controller.signal })
				.catch((err: unknown) => err),
		);
		await new Promise((resolve) => setTimeout(resolve, 20));
		controller.abort(new Error('shutting down'));
		for (const error of await Promise.all(signIns)) expect(error).toMatchObject({ message: 'shutting down' });
		expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
	});

	it('raises no leak warning for calls in flight on it that wait for one refresh', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		// stale: every call waits for the one refresh, each listening to the signal meanwhile
		const stored = sessions.map.get(alice.did)!;
		await sessions.set(alice.did, {
			...stored,
			tokenSet: { ...stored.tokenSet, expires_at: Date.now() - 1000 },
		});
		const session = await client.restore(alice.did, { refresh: false });
		const warnings = await leakWarningsDuring(async () => {
			const shutdown = new AbortController().signal;
			const answers = await Promise.all(
				Array.from({ length: 12 }, () =>
					session.handle('/xrpc/com.atproto.server.getSession', { signal: shutdown }),
				),
			);
			expect(answers.map((response) => response.status)).toEqual(Array(12).fill(200));
			expect(server.stats.token.refresh_token).toBe(1);
			// (the listeners left are Node's fetch's own, which it removes when its Request is collected)
		});
		expect(warnings).toEqual([]);
	});

	it('raises no leak warning for calls on it from an object whose session ended and was signed in again', async () => {
		const { client } = await createTestClient(server);
		const session = (await signIn(server, client, alice.did)).session;
		server.behaviour.refreshFailure = 'invalid_grant';
		await session.refresh().catch(() => {});
		server.behaviour.refreshFailure = undefined;
		await signIn(server, client, alice.did);
		const warnings = await leakWarningsDuring(async () => {
			const shutdown = new AbortController().signal;
			// each first reads the store for the session that replaced the ended one
			const answers = await Promise.all(
				Array.from({ length: 12 }, () =>
					session.handle('/xrpc/com.atproto.server.getSession', { signal: shutdown }),
				),
			);
			expect(answers.map((response) => response.status)).toEqual(Array(12).fill(200));
		});
		expect(warnings).toEqual([]);
	});
});
