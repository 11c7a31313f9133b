import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { FetchFunction } from './fetch-json-document.ts';
import { MemoryMetadataCache, type MetadataCache } from './metadata-cache.ts';
import { OAuthDiscovery } from './oauth-discovery.ts';
import {
	authorizationServerMetadata,
	json,
	protectedResourceMetadata,
	startTestServer,
	type TestServer,
} from './test-utils/metadata-test-server.ts';

const PR_PATH = '/.well-known/oauth-protected-resource';
const AS_PATH = '/.well-known/oauth-authorization-server';

let pds: TestServer;
let as: TestServer;
let entryway: TestServer;

beforeAll(async () => {
	[pds, as, entryway] = await Promise.all([startTestServer(), startTestServer(), startTestServer()]);
	pds.route(PR_PATH, json(protectedResourceMetadata(pds.origin, as.origin)));
	as.route(AS_PATH, json(authorizationServerMetadata(as.origin, [pds.origin])));
	// an entryway: no protected resource document (404), its own authorization server metadata
	entryway.route(AS_PATH, json(authorizationServerMetadata(entryway.origin)));
});
afterAll(async () => {
	await Promise.all([pds.close(), as.close(), entryway.close()]);
});

/**
 * a discovery over the real test servers whose every await point (cache read, cache write, the
 * request sent, the response headers, each body chunk) first calls `step()`. the test aborts the
 * caller's signal at one chosen step, so each point is hit deterministically, not by timing.
 */
const instrumented = (step: () => void, cache: MetadataCache = new MemoryMetadataCache()) => {
	const watchedCache: MetadataCache = {
		get: async (key) => {
			step();
			return cache.get(key);
		},
		set: async (key, value, options) => {
			step();
			return cache.set(key, value, options);
		},
	};
	const watchedFetch: FetchFunction = async (input, init) => {
		step();
		const response = await fetch(input, init);
		step();
		if (response.body === null) return response;
		// each chunk is a point where the caller may give up while the body is read
		const reader = response.body.getReader();
		const body = new ReadableStream<Uint8Array>({
			async pull(controller) {
				step();
				const { done, value } = await reader.read();
				if (done) controller.close();
				else controller.enqueue(value);
			},
			cancel: (reason) => reader.cancel(reason),
		});
		return new Response(body, { status: response.status, headers: response.headers });
	};
	return new OAuthDiscovery({
		allowHttp: true,
		timeout: 5_000,
		fetch: watchedFetch,
		cache: { protectedResource: watchedCache, authorizationServer: watchedCache },
	});
};

/** how many await points a run passes without aborting. */
const countSteps = async (run: (d: OAuthDiscovery, signal: AbortSignal) => Promise<unknown>) => {
	let steps = 0;
	await run(
		instrumented(() => steps++),
		new AbortController().signal,
	);
	return steps;
};

const resolutions: [string, (d: OAuthDiscovery, signal: AbortSignal) => Promise<unknown>][] = [
	['resolveFromPds', (d, signal) => d.resolveFromPds(pds.origin, { signal })],
	['resolveFromService (a PDS)', (d, signal) => d.resolveFromService(pds.origin, { signal })],
	[
		'resolveFromService (an entryway, after a 404)',
		(d, signal) => d.resolveFromService(entryway.origin, { signal }),
	],
	['resolveAuthorizationServer', (d, signal) => d.resolveAuthorizationServer(as.origin, { signal })],
];

describe('OAuthDiscovery abort contract', () => {
	it.each(resolutions)(
		"%s rejects with the caller's reason whichever await point the abort lands on",
		async (_name, run) => {
			const total = await countSteps(run);
			// a cache read, a request, its headers, at least one chunk, and a cache write per document
			expect(total).toBeGreaterThanOrEqual(5);

			for (let at = 0; at < total; at++) {
				const controller = new AbortController();
				const reason = new Error(`gave up at step ${at}`);
				let step = 0;
				const d = instrumented(() => {
					if (step++ === at) controller.abort(reason);
				});
				const outcome = await run(d, controller.signal).then(
					() => 'resolved',
					(error: unknown) => error,
				);
				expect(outcome, `abort at step ${at} of ${total}`).toBe(reason);
			}
		},
	);

	it("rejects with the caller's reason when it gives up during a read from a warm cache", async () => {
		const cache = new MemoryMetadataCache();
		await instrumented(() => {}, cache).resolveFromPds(pds.origin);
		const requests = pds.count() + as.count();

		const controller = new AbortController();
		const reason = new Error('gave up on the cache');
		const d = instrumented(() => controller.abort(reason), cache);
		await expect(d.resolveFromPds(pds.origin, { signal: controller.signal })).rejects.toBe(reason);
		expect(pds.count() + as.count()).toBe(requests);
	});

	it('keeps any value as the reason, even one that is not an Error', async () => {
		const controller = new AbortController();
		let step = 0;
		const d = instrumented(() => {
			if (step++ === 2) controller.abort('a plain string');
		});
		await expect(d.resolveFromPds(pds.origin, { signal: controller.signal })).rejects.toBe('a plain string');
	});
});
