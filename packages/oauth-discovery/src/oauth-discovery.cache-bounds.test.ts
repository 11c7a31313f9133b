import { describe, expect, it } from 'vitest';

import { MemoryMetadataCache, type MetadataCache } from './metadata-cache.ts';
import { OAuthDiscovery, type OAuthDiscoveryOptions } from './oauth-discovery.ts';
import {
	authorizationServerMetadata,
	type Handler,
	protectedResourceMetadata,
	sendJson,
} from './test-utils/metadata-test-server.ts';
import { AS_PATH, PR_PATH, useMetadataServers } from './test-utils/use-metadata-servers.ts';

const YEAR_MS = 365 * 24 * 60 * 60 * 1_000;
const servers = useMetadataServers();

// the test servers are plain http on 127.0.0.1
const discovery = (options: OAuthDiscoveryOptions = {}): OAuthDiscovery => {
	return new OAuthDiscovery({ allowHttp: true, timeout: 5_000, ...options });
};

/** a shared store: every write goes through JSON, as in Redis or SQL. */
const sharedStore = (): MetadataCache => {
	const map = new Map<string, string>();
	return {
		get: async (key) => {
			const text = map.get(key);
			return text === undefined ? undefined : JSON.parse(text);
		},
		set: async (key, value) => void map.set(key, JSON.stringify(value)),
	};
};

const delayed = (ms: number, body: unknown): Handler => {
	return (_req, res) => {
		const timer = setTimeout(() => sendJson(res, body), ms);
		res.on('close', () => clearTimeout(timer));
	};
};

describe('a shared cache written with a longer ttl', () => {
	it("is bounded by the reader's own ttl: a 1-year entry read 10 minutes on with a 60 s ttl is fetched again", async () => {
		const store = sharedStore();
		const cache = { protectedResource: store, authorizationServer: store };
		const start = 1_700_000_000_000;

		await discovery({ ttl: YEAR_MS, now: () => start, cache }).resolveFromPds(servers.pds.origin);
		expect(servers.pds.count(PR_PATH)).toBe(1);
		expect(servers.as.count(AS_PATH)).toBe(1);

		const reader = discovery({ ttl: 60_000, now: () => start + 10 * 60_000, cache });
		await reader.resolveFromPds(servers.pds.origin);
		expect(servers.pds.count(PR_PATH)).toBe(2);
		expect(servers.as.count(AS_PATH)).toBe(2);
	});

	it('is still used by a reader with the same ttl, within it', async () => {
		const store = sharedStore();
		const cache = { protectedResource: store, authorizationServer: store };
		await discovery({ ttl: 60_000, now: () => 1_000_000, cache }).resolveFromPds(servers.pds.origin);
		await discovery({ ttl: 60_000, now: () => 1_010_000, cache }).resolveFromPds(servers.pds.origin);
		expect(servers.pds.count(PR_PATH)).toBe(1);
		expect(servers.as.count(AS_PATH)).toBe(1);
	});

	it('is never used by a reader with ttl 0', async () => {
		const store = sharedStore();
		const cache = { protectedResource: store, authorizationServer: store };
		await discovery({ ttl: 60_000, now: () => 1_000_000, cache }).resolveFromPds(servers.pds.origin);
		await discovery({ ttl: 0, now: () => 1_000_000, cache }).resolveFromPds(servers.pds.origin);
		expect(servers.pds.count(PR_PATH)).toBe(2);
	});

	it('takes an entry whose expiry is not a number as a miss', async () => {
		const map = new Map<string, unknown>([
			[
				servers.pds.origin + PR_PATH,
				{ value: protectedResourceMetadata(servers.pds.origin, servers.as.origin), expiresAt: Number.NaN },
			],
		]);
		const store: MetadataCache = { get: (key) => map.get(key), set: () => {} };
		await discovery({ cache: { protectedResource: store } }).resolveFromPds(servers.pds.origin);
		expect(servers.pds.count(PR_PATH)).toBe(1);
	});
});

describe('resolved documents are shared, so frozen', () => {
	it("refuses a caller's write, and a later caller gets the document as served", async () => {
		const d = discovery();
		const first = await d.resolveFromPds(servers.pds.origin);
		const document = first.authorizationServer as Record<string, unknown>;
		expect(() => {
			document.token_endpoint = 'https://attacker.example/token';
		}).toThrow(TypeError);
		expect(() => (first.authorizationServer.scopes_supported as string[]).push('x')).toThrow(TypeError);
		expect(() => {
			(first.protectedResource.authorization_servers as unknown as string[])[0] = 'https://attacker.example';
		}).toThrow(TypeError);

		const second = await d.resolveFromPds(servers.pds.origin);
		expect(servers.as.count(AS_PATH)).toBe(1);
		expect(second.authorizationServer.token_endpoint).toBe(`${servers.as.origin}/oauth/token`);
		expect(second.authorizationServer.scopes_supported).not.toContain('x');
		expect(second.protectedResource.authorization_servers).toEqual([servers.as.origin]);
	});

	it('freezes the entry the memory cache holds', async () => {
		const cache = new MemoryMetadataCache();
		await discovery({ cache: { authorizationServer: cache } }).resolveAuthorizationServer(servers.as.origin);
		const entry = cache.get(servers.as.origin + AS_PATH) as { value: Record<string, unknown> };
		expect(Object.isFrozen(entry)).toBe(true);
		expect(Object.isFrozen(entry.value)).toBe(true);
		expect(Object.isFrozen(entry.value.scopes_supported)).toBe(true);
	});

	it('hands concurrent callers of one request a frozen document', async () => {
		servers.as.route(
			AS_PATH,
			delayed(50, authorizationServerMetadata(servers.as.origin, [servers.pds.origin])),
		);
		const d = discovery();
		const [a, b] = await Promise.all([
			d.resolveAuthorizationServer(servers.as.origin),
			d.resolveAuthorizationServer(servers.as.origin),
		]);
		expect(servers.as.count(AS_PATH)).toBe(1);
		expect(Object.isFrozen(a)).toBe(true);
		expect(Object.isFrozen(b)).toBe(true);
		expect(Object.isFrozen(a.grant_types_supported)).toBe(true);
	});

	it('freezes a document a store hands back as it is, to every reader', async () => {
		// a store that keeps objects, not text: each get returns the same object
		const value = authorizationServerMetadata(servers.as.origin, [servers.pds.origin]);
		const store: MetadataCache = {
			get: () => ({ value, expiresAt: Date.now() + 30_000 }),
			set: () => {},
		};
		const result = await discovery({ cache: { authorizationServer: store } }).resolveAuthorizationServer(
			servers.as.origin,
		);
		expect(servers.as.count(AS_PATH)).toBe(0);
		// validation returns a copy of what it keeps; its lists are the store's own, frozen too
		expect(result).toEqual(value);
		expect(Object.isFrozen(result)).toBe(true);
		expect(Object.isFrozen(result.dpop_signing_alg_values_supported)).toBe(true);
	});
});
