import { describe, expect, it } from 'vitest';

import { MAX_EXTENSION_FIELDS } from './internal/keep-usable-fields.ts';
import { MemoryMetadataCache } from './metadata-cache.ts';
import { OAuthDiscovery } from './oauth-discovery.ts';
import {
	authorizationServerMetadata,
	json,
	protectedResourceMetadata,
} from './test-utils/metadata-test-server.ts';
import { AS_PATH, PR_PATH, useMetadataServers } from './test-utils/use-metadata-servers.ts';

const servers = useMetadataServers();

/** the fields `AuthorizationServerMetadata` declares. */
const DECLARED = [
	'issuer',
	'authorization_endpoint',
	'token_endpoint',
	'pushed_authorization_request_endpoint',
	'require_pushed_authorization_requests',
	'response_types_supported',
	'grant_types_supported',
	'code_challenge_methods_supported',
	'token_endpoint_auth_methods_supported',
	'token_endpoint_auth_signing_alg_values_supported',
	'dpop_signing_alg_values_supported',
	'scopes_supported',
	'authorization_response_iss_parameter_supported',
	'client_id_metadata_document_supported',
	'revocation_endpoint',
	'protected_resources',
];

/** `[[],[],…]`: 3 bytes of JSON per element, an object on the heap for each once parsed. */
const padding = (count: number): unknown[][] => Array.from({ length: count }, () => []);

/** a discovery whose caches the test can read; the servers are plain http on 127.0.0.1. */
const setup = () => {
	const cache = {
		protectedResource: new MemoryMetadataCache(),
		authorizationServer: new MemoryMetadataCache(),
	};
	const discovery = new OAuthDiscovery({ allowHttp: true, timeout: 5_000, cache });
	const cached = (which: keyof typeof cache, url: string): Record<string, unknown> => {
		const entry = cache[which].get(url) as { value: Record<string, unknown> } | undefined;
		if (entry === undefined) throw new Error(`nothing cached for ${url}`);
		return entry.value;
	};
	return { discovery, cached };
};

describe('what a resolved document keeps (bounded, whatever the server packs in)', () => {
	it('drops a huge array of tiny values from authorization server metadata, and keeps the rest', async () => {
		const document = { ...authorizationServerMetadata(servers.as.origin, [servers.pds.origin]) };
		document.pad = padding(20_000);
		// about 60 KB on the wire, under the 64 KiB cap, so it is served and validated
		expect(JSON.stringify(document).length).toBeGreaterThan(60_000);
		servers.as.route(AS_PATH, json(document));

		const { discovery, cached } = setup();
		const { authorizationServer } = await discovery.resolveFromPds(servers.pds.origin);
		const value = cached('authorizationServer', servers.as.origin + AS_PATH);

		expect(value).toBe(authorizationServer);
		expect(value).not.toHaveProperty('pad');
		expect(JSON.stringify(value).length).toBeLessThan(4_000);
		// every declared field, and the reference server's flat extension fields, are still there
		const { pad: _, ...served } = document;
		expect(value).toEqual(served);
		expect(authorizationServer.token_endpoint).toBe(`${servers.as.origin}/oauth/token`);
		expect(authorizationServer.jwks_uri).toBe(`${servers.as.origin}/oauth/jwks`);
	});

	it('drops a huge array of tiny values from protected resource metadata', async () => {
		const document = protectedResourceMetadata(servers.pds.origin, servers.as.origin);
		// about 6 KB, under the 8 KiB cap
		document.pad = padding(2_000);
		servers.pds.route(PR_PATH, json(document));

		const { discovery, cached } = setup();
		const { protectedResource } = await discovery.resolveFromPds(servers.pds.origin);
		const value = cached('protectedResource', servers.pds.origin + PR_PATH);

		expect(value).toBe(protectedResource);
		expect(value).not.toHaveProperty('pad');
		expect(protectedResource.authorization_servers).toEqual([servers.as.origin]);
		expect(protectedResource.bearer_methods_supported).toEqual(['header']);
	});

	it('keeps at most 64 extension fields, and every declared one however late it comes', async () => {
		// thousands of `"x1":1,` fields: each a few bytes of JSON, several times that once parsed
		const extras: Record<string, unknown> = {};
		for (let i = 0; i < 5_000; i++) extras[`x${i}`] = 1;
		const served = authorizationServerMetadata(servers.as.origin, [servers.pds.origin]);
		servers.as.route(AS_PATH, json({ ...extras, ...served }));

		const { discovery } = setup();
		const metadata = await discovery.resolveAuthorizationServer(servers.as.origin);

		// the declared ones come after the 5,000 and are all kept; the reference server's own extension
		// fields come after them too, past the cap, and are dropped
		for (const name of DECLARED) expect(metadata[name]).toEqual(served[name]);
		const extensions = Object.keys(metadata).filter((name) => !DECLARED.includes(name));
		expect(extensions).toEqual(Array.from({ length: MAX_EXTENSION_FIELDS }, (_, i) => `x${i}`));
		expect(metadata).not.toHaveProperty('jwks_uri');
	});

	it('keeps scalars and arrays of strings, and drops objects and arrays of anything else', async () => {
		const document = authorizationServerMetadata(servers.as.origin, [servers.pds.origin]);
		Object.assign(document, {
			x_string: 'a',
			x_number: 1.5,
			x_boolean: false,
			x_null: null,
			x_strings: ['a', 'b'],
			x_empty: [],
			x_object: { a: 'b' },
			x_numbers: [1, 2],
			x_mixed: ['a', []],
		});
		servers.as.route(AS_PATH, json(document));

		const metadata = await setup().discovery.resolveAuthorizationServer(servers.as.origin);

		expect(metadata).toMatchObject({
			x_string: 'a',
			x_number: 1.5,
			x_boolean: false,
			x_null: null,
			x_strings: ['a', 'b'],
			x_empty: [],
		});
		expect(metadata).not.toHaveProperty('x_object');
		expect(metadata).not.toHaveProperty('x_numbers');
		expect(metadata).not.toHaveProperty('x_mixed');
	});
});
