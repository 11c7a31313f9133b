import { expiresAtOf } from '@atcute-oauth/internal/expires-at';
import { describe, expect, it } from 'vitest';

import type { MetadataCache } from './metadata-cache.ts';
import { OAuthDiscovery } from './oauth-discovery.ts';
import { AS_PATH, PR_PATH, useMetadataServers } from './test-utils/use-metadata-servers.ts';

const servers = useMetadataServers();

/**
 * a shared store that checks `expiresAt` as every store adapter of this project does (SQLite,
 * PostgreSQL, Redis: `expiresAtOf`, within ±8.64e15 ms), and keeps entries through JSON.
 */
const adapterLikeStore = (): MetadataCache & { refused: unknown[] } => {
	const map = new Map<string, string>();
	const refused: unknown[] = [];
	return {
		refused,
		get: async (key) => {
			const text = map.get(key);
			return text === undefined ? undefined : JSON.parse(text);
		},
		set: async (key, value, options) => {
			try {
				expiresAtOf(options);
			} catch (err) {
				refused.push(err);
				throw err;
			}
			map.set(key, JSON.stringify(value));
		},
	};
};

describe('a very long ttl (accepted: any finite number of milliseconds)', () => {
	it('still caches in a store adapter: Number.MAX_SAFE_INTEGER ("for ever") writes an expiry the store takes', async () => {
		const store = adapterLikeStore();
		const cache = { protectedResource: store, authorizationServer: store };
		const discovery = new OAuthDiscovery({ allowHttp: true, ttl: Number.MAX_SAFE_INTEGER, cache });

		await discovery.resolveFromPds(servers.pds.origin);
		// a second instance (another process) reads what the first cached
		const other = new OAuthDiscovery({ allowHttp: true, ttl: Number.MAX_SAFE_INTEGER, cache });
		await other.resolveFromPds(servers.pds.origin);

		expect(store.refused).toEqual([]);
		expect(servers.pds.count(PR_PATH)).toBe(1);
		expect(servers.as.count(AS_PATH)).toBe(1);
	});
});
