import { describe, expect, it } from 'vitest';

import type { MetadataCache } from './metadata-cache.ts';
import { OAuthDiscovery } from './oauth-discovery.ts';
import { AS_PATH, PR_PATH, useMetadataServers } from './test-utils/use-metadata-servers.ts';

const servers = useMetadataServers();

const never = (): Promise<never> => new Promise(() => {});

// the test servers are plain http on 127.0.0.1
const discovery = (cache: MetadataCache, timeout: number): OAuthDiscovery => {
	return new OAuthDiscovery({
		allowHttp: true,
		timeout,
		cache: { protectedResource: cache, authorizationServer: cache },
	});
};

/** settles with what `promise` settled with, or 'pending' when `ms` pass first. */
const within = (promise: Promise<unknown>, ms: number): Promise<unknown> => {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const late = new Promise((resolve) => {
		timer = setTimeout(() => resolve('pending'), ms);
	});
	const settled = promise.then(
		() => 'resolved',
		(error: unknown) => error,
	);
	return Promise.race([settled, late]).finally(() => clearTimeout(timer));
};

describe('OAuthDiscovery with a cache that never settles', () => {
	it("rejects with the caller's reason when get hangs and the caller aborts", async () => {
		const d = discovery({ get: never, set: () => {} }, 60_000);
		const controller = new AbortController();
		const reason = new Error('the user left');
		const pending = d.resolveFromPds(servers.pds.origin, { signal: controller.signal });
		setTimeout(() => controller.abort(reason), 20);
		await expect(within(pending, 1_000)).resolves.toBe(reason);
	});

	it('takes a get that outlasts the time limit as a miss and fetches', async () => {
		// the limit bounds each fetch too: long enough for a loopback answer on a loaded machine
		const d = discovery({ get: never, set: () => {} }, 1_000);
		const started = Date.now();
		await expect(within(d.resolveFromPds(servers.pds.origin), 10_000)).resolves.toBe('resolved');
		// one time limit per document read: no sooner
		expect(Date.now() - started).toBeGreaterThanOrEqual(1_990);
		expect(servers.pds.count(PR_PATH)).toBe(1);
		expect(servers.as.count(AS_PATH)).toBe(1);
	});

	it('resolves when set hangs, and a later call for the same URL is not stuck', async () => {
		const d = discovery({ get: () => undefined, set: never }, 60_000);
		await expect(within(d.resolveFromPds(servers.pds.origin), 1_000)).resolves.toBe('resolved');
		await expect(within(d.resolveFromPds(servers.pds.origin), 1_000)).resolves.toBe('resolved');
		await expect(within(d.resolveFromPds(servers.pds.origin, { noCache: true }), 1_000)).resolves.toBe(
			'resolved',
		);
		// each call made its own request: none joined a flight left open by the write
		expect(servers.pds.count(PR_PATH)).toBe(3);
	});
});
