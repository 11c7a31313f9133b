import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { DiscoveryError } from './discovery-error.ts';
import type { MetadataCache } from './metadata-cache.ts';
import { OAuthDiscovery, type OAuthDiscoveryOptions } from './oauth-discovery.ts';
import {
	authorizationServerMetadata,
	type Handler,
	json,
	protectedResourceMetadata,
	sendJson,
	startTestServer,
	type TestServer,
} from './test-utils/metadata-test-server.ts';

const PR_PATH = '/.well-known/oauth-protected-resource';
const AS_PATH = '/.well-known/oauth-authorization-server';

let pds: TestServer;
let as: TestServer;

beforeAll(async () => {
	[pds, as] = await Promise.all([startTestServer(), startTestServer()]);
});
afterAll(async () => {
	await Promise.all([pds.close(), as.close()]);
});

/** a PDS and its authorization server on two ports, both well-behaved. */
const serveValid = (): void => {
	pds.reset();
	as.reset();
	pds.route(PR_PATH, json(protectedResourceMetadata(pds.origin, as.origin)));
	as.route(AS_PATH, json(authorizationServerMetadata(as.origin, [pds.origin])));
};
beforeEach(serveValid);

// the test servers are plain http on 127.0.0.1
const discovery = (options: OAuthDiscoveryOptions = {}): OAuthDiscovery => {
	return new OAuthDiscovery({ allowHttp: true, timeout: 5_000, ...options });
};

const failure = async (promise: Promise<unknown>): Promise<DiscoveryError> => {
	const error = await promise.then(
		() => undefined,
		(error: unknown) => error,
	);
	expect(error).toBeInstanceOf(DiscoveryError);
	return error as DiscoveryError;
};

/** a handler that answers after `ms`, unless the connection is gone by then. */
const delayed = (ms: number, body: unknown): Handler => {
	return (_req, res) => {
		const timer = setTimeout(() => sendJson(res, body), ms);
		res.on('close', () => clearTimeout(timer));
	};
};

describe('OAuthDiscovery.resolveFromPds', () => {
	it('resolves a PDS to its authorization server across two ports', async () => {
		const result = await discovery().resolveFromPds(pds.origin);
		expect(result.pds).toBe(pds.origin);
		expect(result.issuer).toBe(as.origin);
		expect(result.protectedResource.resource).toBe(pds.origin);
		expect(result.protectedResource.authorization_servers).toEqual([as.origin]);
		expect(result.authorizationServer.issuer).toBe(as.origin);
		expect(result.authorizationServer.pushed_authorization_request_endpoint).toBe(`${as.origin}/oauth/par`);
		expect(pds.count(PR_PATH)).toBe(1);
		expect(as.count(AS_PATH)).toBe(1);
	});

	it('keeps the fields it does not check', async () => {
		const result = await discovery().resolveFromPds(pds.origin);
		expect(result.authorizationServer.prompt_values_supported).toContain('select_account');
		expect(result.authorizationServer.jwks_uri).toBe(`${as.origin}/oauth/jwks`);
		expect(result.protectedResource.bearer_methods_supported).toEqual(['header']);
	});

	it('resolves a PDS that is its own authorization server', async () => {
		pds.route(PR_PATH, json(protectedResourceMetadata(pds.origin, pds.origin)));
		pds.route(AS_PATH, json(authorizationServerMetadata(pds.origin)));
		const result = await discovery().resolveFromPds(pds.origin);
		expect(result.issuer).toBe(pds.origin);
		expect(as.count()).toBe(0);
	});

	it('uses only the origin of the PDS URL', async () => {
		const result = await discovery().resolveFromPds(`${pds.origin}/some/path?x=1#y`);
		expect(result.pds).toBe(pds.origin);
	});

	it('accepts an authorization server that does not list protected_resources', async () => {
		const metadata = authorizationServerMetadata(as.origin);
		delete metadata.protected_resources;
		as.route(AS_PATH, json(metadata));
		await expect(discovery().resolveFromPds(pds.origin)).resolves.toMatchObject({ issuer: as.origin });
	});

	it('checks a cached server metadata that does not list the PDS against a fresh copy', async () => {
		const d = discovery();
		// the server does not vouch for the PDS yet: refused, after one request (nothing was cached)
		as.route(AS_PATH, json(authorizationServerMetadata(as.origin, ['https://other-pds.example'])));
		expect((await failure(d.resolveFromPds(pds.origin))).code).toBe('mismatch');
		expect(as.count(AS_PATH)).toBe(1);
		// still not: the cached copy's refusal is confirmed by a fresh one, then stands
		expect((await failure(d.resolveFromPds(pds.origin))).code).toBe('mismatch');
		expect(as.count(AS_PATH)).toBe(2);
		// it has taken the PDS on (an account moved within it): the cached copy is not believed
		as.route(
			AS_PATH,
			json(authorizationServerMetadata(as.origin, ['https://other-pds.example', pds.origin])),
		);
		await expect(d.resolveFromPds(pds.origin)).resolves.toMatchObject({ issuer: as.origin });
		expect(as.count(AS_PATH)).toBe(3);
		// and the fresh copy is the one kept
		await expect(d.resolveFromPds(pds.origin)).resolves.toMatchObject({ issuer: as.origin });
		expect(as.count(AS_PATH)).toBe(3);
	});

	it('refuses an http PDS without allowHttp, before any request', async () => {
		const error = await failure(new OAuthDiscovery().resolveFromPds(pds.origin));
		expect(error.code).toBe('insecure_protocol');
		expect(pds.count() + as.count()).toBe(0);
	});

	it('refuses a PDS URL with credentials, before any request', async () => {
		const url = pds.origin.replace('http://', 'http://user:secret@');
		const error = await failure(discovery().resolveFromPds(url));
		expect(error.code).toBe('invalid_url');
		expect(error.message).not.toContain('secret');
		expect(pds.count()).toBe(0);
	});

	it('surfaces a 503 from the authorization server as transient', async () => {
		as.route(AS_PATH, json({ error: 'unavailable' }, 503));
		const error = await failure(discovery().resolveFromPds(pds.origin));
		expect(error.code).toBe('bad_status');
		expect(error.transient).toBe(true);
		expect(error.url).toBe(as.origin + AS_PATH);
	});

	it('refuses a redirect of the protected resource document to a valid one', async () => {
		pds.route('/elsewhere', json(protectedResourceMetadata(pds.origin, as.origin)));
		pds.route(PR_PATH, (_req, res) => {
			res.writeHead(302, { location: `${pds.origin}/elsewhere` });
			res.end();
		});
		const error = await failure(discovery().resolveFromPds(pds.origin));
		expect(error.code).toBe('redirect');
		expect(pds.count('/elsewhere')).toBe(0);
	});
});

type Mutation = (document: Record<string, unknown>) => void;

describe('OAuthDiscovery.resolveFromProtectedResource', () => {
	it('finishes what resolveProtectedResource began, as resolveFromPds would', async () => {
		const d = discovery();
		const protectedResource = await d.resolveProtectedResource(pds.origin);
		// the issuer named, before any request to it
		expect(protectedResource.authorization_servers[0]).toBe(as.origin);
		expect(as.count(AS_PATH)).toBe(0);
		const result = await d.resolveFromProtectedResource(`${pds.origin}/xrpc`, protectedResource);
		expect(result).toEqual(await discovery().resolveFromPds(pds.origin));
		expect(pds.count(PR_PATH)).toBe(2);
	});

	it("refuses another PDS's metadata, before any request", async () => {
		const d = discovery();
		const protectedResource = await d.resolveProtectedResource(pds.origin);
		const error = await failure(d.resolveFromProtectedResource(as.origin, protectedResource));
		expect(error.code).toBe('mismatch');
		expect(error.message).toContain(`is for "${pds.origin}", not ${as.origin}`);
		expect(as.count()).toBe(0);
	});

	it('still refuses an authorization server that does not protect the PDS', async () => {
		const d = discovery();
		const protectedResource = await d.resolveProtectedResource(pds.origin);
		as.route(AS_PATH, json(authorizationServerMetadata(as.origin, ['https://other.example.com'])));
		expect((await failure(d.resolveFromProtectedResource(pds.origin, protectedResource))).code).toBe(
			'mismatch',
		);
	});
});

describe('the atproto profile of protected resource metadata', () => {
	const rules: [string, string, Mutation, 'invalid_metadata' | 'mismatch'][] = [
		['resource names another server', 'resource', (d) => (d.resource = 'https://other.example'), 'mismatch'],
		['resource has a trailing slash', 'resource', (d) => (d.resource = `${d.resource}/`), 'mismatch'],
		['resource is missing', 'resource', (d) => delete d.resource, 'invalid_metadata'],
		[
			'authorization_servers is missing',
			'authorization_servers',
			(d) => delete d.authorization_servers,
			'invalid_metadata',
		],
		[
			'authorization_servers is empty',
			'authorization_servers',
			(d) => (d.authorization_servers = []),
			'invalid_metadata',
		],
		[
			'authorization_servers holds two issuers',
			'authorization_servers',
			(d) => (d.authorization_servers = ['https://a.example', 'https://b.example']),
			'invalid_metadata',
		],
		[
			'the issuer has a path',
			'authorization_servers[0]',
			(d) => (d.authorization_servers = ['https://a.example/oauth']),
			'invalid_metadata',
		],
		[
			'the issuer is not a URL',
			'authorization_servers[0]',
			(d) => (d.authorization_servers = ['bsky.social']),
			'invalid_metadata',
		],
		[
			'the issuer is not a string',
			'authorization_servers[0]',
			(d) => (d.authorization_servers = [42]),
			'invalid_metadata',
		],
	];

	it.each(rules)('refuses a document where %s', async (_name, field, mutate, code) => {
		const document = protectedResourceMetadata(pds.origin, as.origin);
		mutate(document);
		pds.route(PR_PATH, json(document));
		const error = await failure(discovery().resolveFromPds(pds.origin));
		expect(error.code).toBe(code);
		expect(error.transient).toBe(false);
		expect(error.message).toContain(`protected resource metadata "${field}"`);
		expect(error.message).toContain(pds.origin + PR_PATH);
		expect(as.count()).toBe(0);
	});
});

describe('the atproto profile of authorization server metadata', () => {
	const without =
		(field: string, value: string): Mutation =>
		(d) =>
			(d[field] = (d[field] as string[]).filter((item) => item !== value));

	const rules: [string, string, Mutation, 'invalid_metadata' | 'mismatch'][] = [
		['issuer names another server', 'issuer', (d) => (d.issuer = 'https://evil.example'), 'mismatch'],
		['issuer has a trailing slash', 'issuer', (d) => (d.issuer = `${d.issuer}/`), 'invalid_metadata'],
		['issuer has a path', 'issuer', (d) => (d.issuer = `${d.issuer}/oauth`), 'invalid_metadata'],
		['issuer is missing', 'issuer', (d) => delete d.issuer, 'invalid_metadata'],
		[
			'authorization_endpoint is missing',
			'authorization_endpoint',
			(d) => delete d.authorization_endpoint,
			'invalid_metadata',
		],
		[
			'authorization_endpoint is not a URL',
			'authorization_endpoint',
			(d) => (d.authorization_endpoint = '/oauth/authorize'),
			'invalid_metadata',
		],
		['token_endpoint is missing', 'token_endpoint', (d) => delete d.token_endpoint, 'invalid_metadata'],
		[
			'token_endpoint has a fragment',
			'token_endpoint',
			(d) => (d.token_endpoint = `${d.token_endpoint}#x`),
			'invalid_metadata',
		],
		[
			'pushed_authorization_request_endpoint is missing',
			'pushed_authorization_request_endpoint',
			(d) => delete d.pushed_authorization_request_endpoint,
			'invalid_metadata',
		],
		[
			'require_pushed_authorization_requests is false',
			'require_pushed_authorization_requests',
			(d) => (d.require_pushed_authorization_requests = false),
			'invalid_metadata',
		],
		[
			'require_pushed_authorization_requests is the string "true"',
			'require_pushed_authorization_requests',
			(d) => (d.require_pushed_authorization_requests = 'true'),
			'invalid_metadata',
		],
		[
			'response_types_supported lacks code',
			'response_types_supported',
			without('response_types_supported', 'code'),
			'invalid_metadata',
		],
		[
			'grant_types_supported lacks authorization_code',
			'grant_types_supported',
			without('grant_types_supported', 'authorization_code'),
			'invalid_metadata',
		],
		[
			'grant_types_supported lacks refresh_token',
			'grant_types_supported',
			without('grant_types_supported', 'refresh_token'),
			'invalid_metadata',
		],
		[
			'grant_types_supported is missing',
			'grant_types_supported',
			(d) => delete d.grant_types_supported,
			'invalid_metadata',
		],
		[
			'code_challenge_methods_supported lacks S256',
			'code_challenge_methods_supported',
			(d) => (d.code_challenge_methods_supported = ['plain']),
			'invalid_metadata',
		],
		[
			'token_endpoint_auth_methods_supported lacks private_key_jwt',
			'token_endpoint_auth_methods_supported',
			without('token_endpoint_auth_methods_supported', 'private_key_jwt'),
			'invalid_metadata',
		],
		[
			'token_endpoint_auth_methods_supported lacks none',
			'token_endpoint_auth_methods_supported',
			without('token_endpoint_auth_methods_supported', 'none'),
			'invalid_metadata',
		],
		[
			'token_endpoint_auth_signing_alg_values_supported lacks ES256',
			'token_endpoint_auth_signing_alg_values_supported',
			without('token_endpoint_auth_signing_alg_values_supported', 'ES256'),
			'invalid_metadata',
		],
		[
			'dpop_signing_alg_values_supported lacks ES256',
			'dpop_signing_alg_values_supported',
			without('dpop_signing_alg_values_supported', 'ES256'),
			'invalid_metadata',
		],
		[
			'dpop_signing_alg_values_supported holds a number',
			'dpop_signing_alg_values_supported[2]',
			(d) => (d.dpop_signing_alg_values_supported = ['RS256', 'ES256', 256]),
			'invalid_metadata',
		],
		[
			'scopes_supported lacks atproto',
			'scopes_supported',
			without('scopes_supported', 'atproto'),
			'invalid_metadata',
		],
		[
			'scopes_supported is a string',
			'scopes_supported',
			(d) => (d.scopes_supported = 'atproto'),
			'invalid_metadata',
		],
		[
			'authorization_response_iss_parameter_supported is missing',
			'authorization_response_iss_parameter_supported',
			(d) => delete d.authorization_response_iss_parameter_supported,
			'invalid_metadata',
		],
		[
			'client_id_metadata_document_supported is false',
			'client_id_metadata_document_supported',
			(d) => (d.client_id_metadata_document_supported = false),
			'invalid_metadata',
		],
		[
			'revocation_endpoint is not a URL',
			'revocation_endpoint',
			(d) => (d.revocation_endpoint = 42),
			'invalid_metadata',
		],
		[
			'protected_resources is not an array',
			'protected_resources',
			(d) => (d.protected_resources = 'x'),
			'invalid_metadata',
		],
		[
			'protected_resources does not list the PDS',
			'protected_resources',
			(d) => (d.protected_resources = ['https://other-pds.example']),
			'mismatch',
		],
	];

	it.each(rules)('refuses a document where %s', async (_name, field, mutate, code) => {
		const document = authorizationServerMetadata(as.origin, [pds.origin]);
		mutate(document);
		as.route(AS_PATH, json(document));
		const error = await failure(discovery().resolveFromPds(pds.origin));
		expect(error.code).toBe(code);
		expect(error.transient).toBe(false);
		expect(error.url).toBe(as.origin + AS_PATH);
		expect(error.message).toContain(`authorization server metadata "${field}"`);
		expect(error.message).toContain(`(${as.origin}${AS_PATH})`);
	});

	it('names the missing value in the message', async () => {
		const document = authorizationServerMetadata(as.origin, [pds.origin]);
		document.dpop_signing_alg_values_supported = ['RS256'];
		as.route(AS_PATH, json(document));
		const error = await failure(discovery().resolveFromPds(pds.origin));
		expect(error.message).toBe(
			`authorization server metadata "dpop_signing_alg_values_supported" must include "ES256" (${as.origin}${AS_PATH})`,
		);
	});
});

describe('OAuthDiscovery caching', () => {
	it('answers a second resolve from the cache, without a request', async () => {
		const d = discovery();
		const first = await d.resolveFromPds(pds.origin);
		const second = await d.resolveFromPds(pds.origin);
		expect(second).toEqual(first);
		expect(pds.count(PR_PATH)).toBe(1);
		expect(as.count(AS_PATH)).toBe(1);
	});

	it('fetches again once the ttl has passed', async () => {
		let now = 1_000_000;
		const d = discovery({ now: () => now, ttl: 60_000 });
		await d.resolveFromPds(pds.origin);
		now += 59_999;
		await d.resolveFromPds(pds.origin);
		expect(pds.count(PR_PATH)).toBe(1);
		now += 1;
		await d.resolveFromPds(pds.origin);
		expect(pds.count(PR_PATH)).toBe(2);
		expect(as.count(AS_PATH)).toBe(2);
	});

	it('skips the cache with noCache, and caches what it fetched', async () => {
		const d = discovery();
		await d.resolveFromPds(pds.origin);
		const changed = authorizationServerMetadata(as.origin, [pds.origin]);
		changed.scopes_supported = ['atproto', 'new:scope'];
		as.route(AS_PATH, json(changed));

		const fresh = await d.resolveFromPds(pds.origin, { noCache: true });
		expect(fresh.authorizationServer.scopes_supported).toEqual(['atproto', 'new:scope']);
		expect(as.count(AS_PATH)).toBe(2);

		const cached = await d.resolveFromPds(pds.origin);
		expect(cached.authorizationServer.scopes_supported).toEqual(['atproto', 'new:scope']);
		expect(as.count(AS_PATH)).toBe(2);
	});

	it('shares one request per document between 10 concurrent resolves', async () => {
		pds.route(PR_PATH, delayed(50, protectedResourceMetadata(pds.origin, as.origin)));
		as.route(AS_PATH, delayed(50, authorizationServerMetadata(as.origin, [pds.origin])));
		const d = discovery();
		const results = await Promise.all(Array.from({ length: 10 }, () => d.resolveFromPds(pds.origin)));
		expect(results.every((result) => result.issuer === as.origin)).toBe(true);
		expect(pds.count(PR_PATH)).toBe(1);
		expect(as.count(AS_PATH)).toBe(1);
	});

	it('shares the failure of a shared request too', async () => {
		as.route(AS_PATH, delayed(50, { issuer: 'https://evil.example' }));
		const d = discovery();
		const errors = await Promise.all(Array.from({ length: 5 }, () => failure(d.resolveFromPds(pds.origin))));
		expect(errors.every((error) => error.code === 'mismatch')).toBe(true);
		expect(as.count(AS_PATH)).toBe(1);
	});

	it('does not cache a refused document', async () => {
		as.route(AS_PATH, json({ issuer: as.origin }));
		const d = discovery();
		await failure(d.resolveFromPds(pds.origin));
		as.route(AS_PATH, json(authorizationServerMetadata(as.origin, [pds.origin])));
		await expect(d.resolveFromPds(pds.origin)).resolves.toMatchObject({ issuer: as.origin });
		expect(as.count(AS_PATH)).toBe(2);
	});

	it('still resolves when the cache throws on get and set', async () => {
		const broken: MetadataCache = {
			get: () => {
				throw new Error('cache down');
			},
			set: () => Promise.reject(new Error('cache down')),
		};
		const d = discovery({ cache: { protectedResource: broken, authorizationServer: broken } });
		await expect(d.resolveFromPds(pds.origin)).resolves.toMatchObject({ issuer: as.origin });
		await expect(d.resolveFromPds(pds.origin)).resolves.toMatchObject({ issuer: as.origin });
		expect(pds.count(PR_PATH)).toBe(2);
	});

	it('stores entries with their expiry in any store, keyed by document URL', async () => {
		const map = new Map<string, unknown>();
		const expiries: unknown[] = [];
		const store: MetadataCache = {
			get: async (key) => map.get(key),
			set: async (key, value, options) => {
				// a JSON round trip, as a shared store would do
				map.set(key, JSON.parse(JSON.stringify(value)));
				expiries.push(options?.expiresAt);
			},
		};
		const d = discovery({
			now: () => 5_000,
			ttl: 1_000,
			cache: { protectedResource: store, authorizationServer: store },
		});
		await d.resolveFromPds(pds.origin);
		expect(map.get(pds.origin + PR_PATH)).toMatchObject({
			expiresAt: 6_000,
			value: { resource: pds.origin },
		});
		expect(map.get(as.origin + AS_PATH)).toMatchObject({ expiresAt: 6_000, value: { issuer: as.origin } });
		expect(expiries).toEqual([6_000, 6_000]);

		// a second instance sharing the store needs no request
		const other = discovery({
			now: () => 5_500,
			ttl: 1_000,
			cache: { protectedResource: store, authorizationServer: store },
		});
		await other.resolveFromPds(pds.origin);
		expect(pds.count(PR_PATH)).toBe(1);
		expect(as.count(AS_PATH)).toBe(1);
	});

	it('treats a cached entry that fails validation as a miss', async () => {
		const store = new Map<string, unknown>();
		const cache: MetadataCache = {
			get: (key) => store.get(key),
			set: (key, value) => void store.set(key, value),
		};
		store.set(as.origin + AS_PATH, {
			value: { issuer: 'https://evil.example' },
			expiresAt: Number.MAX_SAFE_INTEGER,
		});
		store.set(pds.origin + PR_PATH, 'garbage');
		const d = discovery({ cache: { protectedResource: cache, authorizationServer: cache } });
		const result = await d.resolveFromPds(pds.origin);
		expect(result.issuer).toBe(as.origin);
		expect(result.authorizationServer.issuer).toBe(as.origin);
		expect(as.count(AS_PATH)).toBe(1);
	});

	it('answers a cache hit with the very document it validated, not a copy validated again', async () => {
		const d = discovery();
		const first = await d.resolveFromPds(pds.origin);
		const second = await d.resolveFromPds(pds.origin);
		expect(second.protectedResource).toBe(first.protectedResource);
		expect(second.authorizationServer).toBe(first.authorizationServer);
		expect(Object.isFrozen(second.authorizationServer.scopes_supported)).toBe(true);
	});

	it('validates again a document it validated when a cache hands it back under another URL', async () => {
		// a store that answers every key with the first document put in it, as a broken one might
		let first: unknown;
		const cache: MetadataCache = {
			get: () => first,
			set: (_key, value) => {
				first ??= value;
			},
		};
		const d = discovery({ cache: { protectedResource: cache, authorizationServer: cache } });
		await d.resolveFromPds(pds.origin);
		// the protected resource document, validated for its own URL, is no authorization server's
		await expect(d.resolveAuthorizationServer(as.origin)).resolves.toMatchObject({ issuer: as.origin });
		expect(as.count(AS_PATH)).toBe(2);
	});

	it('does not cache with ttl 0', async () => {
		const d = discovery({ ttl: 0 });
		await d.resolveFromPds(pds.origin);
		await d.resolveFromPds(pds.origin);
		expect(pds.count(PR_PATH)).toBe(2);
	});
});

describe('OAuthDiscovery aborts', () => {
	it("gives up with the signal's reason when the caller aborts", { timeout: 5_000 }, async () => {
		pds.route(PR_PATH, delayed(30_000, {}));
		const controller = new AbortController();
		const reason = new Error('user left');
		setTimeout(() => controller.abort(reason), 50);
		await expect(discovery().resolveFromPds(pds.origin, { signal: controller.signal })).rejects.toBe(reason);
	});

	it('sends nothing when the signal is already aborted', async () => {
		const signal = AbortSignal.abort();
		await expect(discovery().resolveFromPds(pds.origin, { signal })).rejects.toBe(signal.reason);
		expect(pds.count()).toBe(0);
	});

	it('keeps a shared request going for the callers that did not abort', async () => {
		pds.route(PR_PATH, delayed(150, protectedResourceMetadata(pds.origin, as.origin)));
		const d = discovery();
		const controller = new AbortController();
		const aborted = d.resolveFromPds(pds.origin, { signal: controller.signal }).catch((e: unknown) => e);
		const patient = d.resolveFromPds(pds.origin);
		const reason = new Error('one caller left');
		setTimeout(() => controller.abort(reason), 30);
		expect(await aborted).toBe(reason);
		await expect(patient).resolves.toMatchObject({ issuer: as.origin });
		expect(pds.count(PR_PATH)).toBe(1);
	});

	it('times out a slow document as transient', { timeout: 5_000 }, async () => {
		as.route(AS_PATH, delayed(30_000, {}));
		const error = await failure(discovery({ timeout: 200 }).resolveFromPds(pds.origin));
		expect(error.code).toBe('timeout');
		expect(error.transient).toBe(true);
		expect(error.url).toBe(as.origin + AS_PATH);
	});
});

describe('OAuthDiscovery.resolveAuthorizationServer', () => {
	it('resolves an issuer directly', async () => {
		const metadata = await discovery().resolveAuthorizationServer(as.origin);
		expect(metadata.issuer).toBe(as.origin);
	});

	it.each(['/', '/oauth', '?x=1'])(
		'refuses an issuer with %s after the origin, before any request',
		async (tail) => {
			const error = await failure(discovery().resolveAuthorizationServer(as.origin + tail));
			expect(error.code).toBe('invalid_url');
			expect(as.count()).toBe(0);
		},
	);

	it('refuses an http issuer without allowHttp', async () => {
		const error = await failure(new OAuthDiscovery().resolveAuthorizationServer(as.origin));
		expect(error.code).toBe('insecure_protocol');
		expect(as.count()).toBe(0);
	});
});

describe('OAuthDiscovery.resolveFromService', () => {
	it('resolves a PDS URL as a PDS', async () => {
		const result = await discovery().resolveFromService(`${pds.origin}/`);
		expect(result.pds).toBe(pds.origin);
		expect(result.issuer).toBe(as.origin);
		expect(result.protectedResource?.resource).toBe(pds.origin);
	});

	it('resolves an entryway (no protected resource document) as an authorization server', async () => {
		const result = await discovery().resolveFromService(as.origin);
		expect(result.pds).toBeUndefined();
		expect(result.protectedResource).toBeUndefined();
		expect(result.issuer).toBe(as.origin);
		expect(result.authorizationServer.issuer).toBe(as.origin);
		expect(as.count(PR_PATH)).toBe(1);
		expect(as.count(AS_PATH)).toBe(1);
	});

	it('falls back when the protected resource path serves an HTML page', async () => {
		as.route(PR_PATH, (_req, res) => {
			res.writeHead(200, { 'content-type': 'text/html' });
			res.end('<!doctype html>');
		});
		const result = await discovery().resolveFromService(as.origin);
		expect(result.pds).toBeUndefined();
		expect(result.issuer).toBe(as.origin);
	});

	it('surfaces a 503 on the protected resource document as transient, without falling back', async () => {
		pds.route(PR_PATH, json({ error: 'unavailable' }, 503));
		pds.route(AS_PATH, json(authorizationServerMetadata(pds.origin)));
		const error = await failure(discovery().resolveFromService(pds.origin));
		expect(error.code).toBe('bad_status');
		expect(error.status).toBe(503);
		expect(error.transient).toBe(true);
		expect(error.url).toBe(pds.origin + PR_PATH);
		expect(pds.count(AS_PATH)).toBe(0);
	});

	it('surfaces a timeout on the protected resource document without falling back', {
		timeout: 5_000,
	}, async () => {
		pds.route(PR_PATH, delayed(30_000, {}));
		pds.route(AS_PATH, json(authorizationServerMetadata(pds.origin)));
		const error = await failure(discovery({ timeout: 200 }).resolveFromService(pds.origin));
		expect(error.code).toBe('timeout');
		expect(pds.count(AS_PATH)).toBe(0);
	});

	it('does not fall back when the PDS names a broken authorization server', async () => {
		as.route(AS_PATH, json({ error: 'nope' }, 404));
		pds.route(AS_PATH, json(authorizationServerMetadata(pds.origin)));
		const error = await failure(discovery().resolveFromService(pds.origin));
		expect(error.code).toBe('bad_status');
		expect(error.url).toBe(as.origin + AS_PATH);
		expect(pds.count(AS_PATH)).toBe(0);
	});

	it('does not fall back on a malformed protected resource document', async () => {
		pds.route(PR_PATH, json({ resource: pds.origin, authorization_servers: [] }));
		pds.route(AS_PATH, json(authorizationServerMetadata(pds.origin)));
		const error = await failure(discovery().resolveFromService(pds.origin));
		expect(error.code).toBe('invalid_metadata');
		expect(pds.count(AS_PATH)).toBe(0);
	});

	it('reports the authorization server document when neither document exists', async () => {
		pds.reset();
		const error = await failure(discovery().resolveFromService(pds.origin));
		expect(error.code).toBe('bad_status');
		expect(error.url).toBe(pds.origin + AS_PATH);
		expect(error.status).toBe(404);
		expect(error.transient).toBe(false);
		expect(error.message).toBe(
			`${pds.origin}${AS_PATH} answered with status 404, expected 200; its protected resource document at ${pds.origin}${PR_PATH} was not usable: answered with status 404, expected 200`,
		);
		expect(error.cause).toMatchObject({ code: 'bad_status', status: 404, url: pds.origin + PR_PATH });
	});

	it('names what the protected resource path answered when the fallback fails too', async () => {
		// a reverse proxy's HTML page on the protected resource path, and no authorization server
		pds.reset();
		pds.route(PR_PATH, (_req, res) => {
			res.writeHead(200, { 'content-type': 'text/html' });
			res.end('<!doctype html>');
		});
		const error = await failure(discovery().resolveFromService(pds.origin));
		expect(error.code).toBe('bad_status');
		expect(error.url).toBe(pds.origin + AS_PATH);
		expect(error.status).toBe(404);
		expect(error.message).toBe(
			`${pds.origin}${AS_PATH} answered with status 404, expected 200; its protected resource document at ${pds.origin}${PR_PATH} was not usable: answered with content type "text/html", expected application/json`,
		);
		expect(error.cause).toBeInstanceOf(DiscoveryError);
		expect(error.cause).toMatchObject({ code: 'bad_content_type', url: pds.origin + PR_PATH });
	});

	it("keeps a network failure's own cause when the fallback cannot be reached", async () => {
		pds.reset();
		pds.route(AS_PATH, (req) => req.socket.destroy());
		const error = await failure(discovery().resolveFromService(pds.origin));
		expect(error.code).toBe('network');
		expect(error.transient).toBe(true);
		expect(error.message).toMatch(/was not usable: answered with status 404, expected 200$/);
		// the fetch error, as for every network failure: not the protected resource document's error
		expect(error.cause).not.toBeInstanceOf(DiscoveryError);
		expect(error.cause).toBeInstanceOf(TypeError);
	});

	it('keeps a transient fallback failure transient, with the protected resource failure as cause', async () => {
		pds.reset();
		pds.route(PR_PATH, (_req, res) => {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end('{not json');
		});
		pds.route(AS_PATH, json({ error: 'unavailable' }, 503));
		const error = await failure(discovery().resolveFromService(pds.origin));
		expect(error.code).toBe('bad_status');
		expect(error.status).toBe(503);
		expect(error.transient).toBe(true);
		expect(error.message).toMatch(/was not usable: did not answer with valid JSON$/);
		expect(error.cause).toMatchObject({ code: 'invalid_json' });
	});
});

describe('new OAuthDiscovery', () => {
	it.each([
		['null', null, 'null'],
		['a fetch given alone', globalThis.fetch, 'function'],
		['a number', 5000, 'number'],
	])('refuses %s as the options with a TypeError naming them', (_label, options, got) => {
		expect(() => new OAuthDiscovery(options as never)).toThrow(
			new TypeError(
				`new OAuthDiscovery(options) expects an options object ({ fetch?, timeout?, ttl?, ... }) or nothing, got ${got}`,
			),
		);
		expect(() => new OAuthDiscovery()).not.toThrow();
	});

	it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses timeout %s', (timeout) => {
		expect(() => new OAuthDiscovery({ timeout })).toThrow(TypeError);
	});

	it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses ttl %s', (ttl) => {
		expect(() => new OAuthDiscovery({ ttl })).toThrow(TypeError);
	});

	it.each([true, '0x10', '200', ['200']])('refuses timeout %j: a number only', (timeout) => {
		// compared as numbers, true was a 1 ms limit and '0x10' a 16 ms one
		expect(() => new OAuthDiscovery({ timeout: timeout as unknown as number })).toThrow(
			/^timeout must be a positive number of milliseconds, got /,
		);
	});

	it.each(['false', '0', 1])('refuses allowHttp %j, which would turn plain http on', (allowHttp) => {
		expect(() => new OAuthDiscovery({ allowHttp: allowHttp as unknown as boolean })).toThrow(
			/^allowHttp must be a boolean, got (string|number)$/,
		);
	});

	it.each([
		['fetch', 'x', 'string'],
		['fetch', null, 'null'],
		['now', 5, 'number'],
	])('refuses %s: %j, naming it', (name, value, kind) => {
		expect(() => new OAuthDiscovery({ [name]: value })).toThrow(`${name} must be a function, got ${kind}`);
	});

	it('refuses a cache that is not an object of MetadataCaches', () => {
		expect(() => new OAuthDiscovery({ cache: 'memory' as never })).toThrow(/^cache must be an object/);
		expect(() => new OAuthDiscovery({ cache: { protectedResource: {} as never } })).toThrow(
			'cache.protectedResource must be a MetadataCache (an object with get and set methods)',
		);
		// a Map has get and set: it is taken
		expect(() => new OAuthDiscovery({ cache: { authorizationServer: new Map() as never } })).not.toThrow();
	});
});

describe('a resolve signal', () => {
	it('is refused when it is not an AbortSignal, before anything is fetched', async () => {
		let fetched = 0;
		const counting = discovery({
			fetch: (input, init) => {
				fetched++;
				return fetch(input, init);
			},
		});
		const resolves = [
			(signal: AbortSignal) => counting.resolveFromPds(pds.origin, { signal }),
			(signal: AbortSignal) => counting.resolveFromService(pds.origin, { signal }),
			(signal: AbortSignal) => counting.resolveProtectedResource(pds.origin, { signal }),
			(signal: AbortSignal) => counting.resolveAuthorizationServer(as.origin, { signal }),
		];
		for (const resolve of resolves) {
			await expect(resolve(new AbortController() as unknown as AbortSignal)).rejects.toThrow(
				'signal must be an AbortSignal (pass controller.signal), got AbortController',
			);
		}
		expect(fetched).toBe(0);
		// a real one works
		await expect(
			counting.resolveFromPds(pds.origin, { signal: new AbortController().signal }),
		).resolves.toMatchObject({ issuer: as.origin });
	});
});
