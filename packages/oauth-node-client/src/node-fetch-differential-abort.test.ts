import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNodeFetch } from './create-node-fetch.ts';
import { type LoopbackServer, startHttpServer } from './test-utils/loopback-servers.ts';

const local = createNodeFetch({ allowPrivateNetwork: true });

/**
 * a signal as the `abort-controller` polyfill (and other pre-`reason` implementations) makes one:
 * `aborted` and the listener methods, no `reason`. the transport takes it (see `isSignalLike`), as
 * Node's fetch does.
 */
class PolyfillSignal {
	aborted = false;
	readonly #listeners = new Set<(event: { type: string }) => void>();
	addEventListener(_type: string, listener: (event: { type: string }) => void) {
		this.#listeners.add(listener);
	}
	removeEventListener(_type: string, listener: (event: { type: string }) => void) {
		this.#listeners.delete(listener);
	}
	abort() {
		this.aborted = true;
		for (const listener of [...this.#listeners]) listener.call(this, { type: 'abort' });
	}
}

const asSignal = (signal: PolyfillSignal) => signal as unknown as AbortSignal;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** how a promise settles within `ms`: its value or error, or 'still pending'. */
const settled = (promise: Promise<unknown>, ms = 4_000) =>
	Promise.race([
		promise.then(
			(value) => ({ value }),
			(error: unknown) => ({ error }),
		),
		sleep(ms).then(() => 'still pending' as const),
	]);

describe('createNodeFetch: an abort whose signal has no reason, as the global fetch reports it', () => {
	let server: LoopbackServer;
	beforeAll(async () => {
		server = await startHttpServer((request, response) => {
			// never answered: the abort comes while the answer is awaited
			if (request.url === '/never') return;
			// a body still arriving when the abort comes
			response.writeHead(200, { 'content-type': 'text/plain' });
			response.write('first ');
			setTimeout(() => response.end('second'), 20_000).unref();
		});
	});
	afterAll(() => server.close());

	const isAbortError = (error: unknown) => error instanceof DOMException && error.name === 'AbortError';

	// the global fetch of Node 20 takes a polyfill signal, and rejects with an AbortError; Node 24's
	// refuses one (not an AbortSignal): only ours is held to what Node 20's did
	it('createNodeFetch: a polyfill signal aborted before the request rejects with an AbortError', async () => {
		const signal = new PolyfillSignal();
		signal.abort();
		const outcome = await settled(local(`${server.origin}/body`, { signal: asSignal(signal) }));
		expect(outcome).not.toBe('still pending');
		expect(isAbortError((outcome as { error?: unknown }).error)).toBe(true);
	}, 10_000);

	it('createNodeFetch: a polyfill signal aborted while the answer is awaited rejects with an AbortError', async () => {
		const signal = new PolyfillSignal();
		const pending = local(`${server.origin}/never`, { signal: asSignal(signal) });
		setTimeout(() => signal.abort(), 30);
		const outcome = await settled(pending);
		expect(outcome).not.toBe('still pending');
		expect(isAbortError((outcome as { error?: unknown }).error)).toBe(true);
	}, 10_000);

	it('createNodeFetch: a polyfill signal aborted while the body streams fails its read with an AbortError, not a hang', async () => {
		const signal = new PolyfillSignal();
		const response = await local(`${server.origin}/body`, { signal: asSignal(signal) });
		const reader = response.body!.getReader();
		// the first part arrived: the abort comes while the rest is awaited
		await reader.read();
		signal.abort();
		const outcome = await settled(reader.read());
		expect(outcome).not.toBe('still pending');
		expect(isAbortError((outcome as { error?: unknown }).error)).toBe(true);
	}, 10_000);

	it.each([
		['the global fetch', globalThis.fetch],
		['createNodeFetch', local],
	])(
		'%s: abort(null) while the body streams fails its read, not a hang',
		async (_name, fetcher) => {
			const controller = new AbortController();
			const response = await fetcher(`${server.origin}/body`, { signal: controller.signal });
			const reader = response.body!.getReader();
			await reader.read();
			controller.abort(null);
			const outcome = await settled(reader.read());
			expect(outcome).not.toBe('still pending');
			expect(isAbortError((outcome as { error?: unknown }).error)).toBe(true);
		},
		10_000,
	);
});
