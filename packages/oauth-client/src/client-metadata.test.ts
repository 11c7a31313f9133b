import { generatePrivateKey, Keyset } from '@atcute/oauth-keys';
import { beforeAll, describe, expect, it } from 'vitest';

import {
	buildClientMetadata,
	buildLoopbackClientMetadata,
	type ClientMetadataInput,
	isLoopbackClientId,
} from './client-metadata.ts';

const base: ClientMetadataInput = {
	client_id: 'https://example.com/oauth-client-metadata.json',
	redirect_uris: ['https://example.com/oauth/callback'],
	scope: ['atproto', 'transition:generic'],
};

describe('buildClientMetadata', () => {
	let keyset: Keyset;
	beforeAll(async () => {
		keyset = new Keyset([await generatePrivateKey('main')]);
	});

	it('fills in what atproto fixes for a confidential client and inlines the public keys', () => {
		const metadata = buildClientMetadata({ ...base, client_name: 'Example' }, keyset);
		expect(metadata).toEqual({
			client_id: base.client_id,
			client_name: 'Example',
			redirect_uris: base.redirect_uris,
			scope: 'atproto transition:generic',
			grant_types: ['authorization_code', 'refresh_token'],
			response_types: ['code'],
			application_type: 'web',
			token_endpoint_auth_method: 'private_key_jwt',
			token_endpoint_auth_signing_alg: 'ES256',
			dpop_bound_access_tokens: true,
			jwks: keyset.publicJwks,
		});
		expect(JSON.stringify(metadata)).not.toContain('"d"');
	});

	it('keeps a client_uri at the client_id’s path or a folder above it, on its origin', () => {
		const clientId = 'https://example.com/oauth/client-metadata.json';
		for (const clientUri of [
			'https://example.com',
			'https://example.com/',
			'https://example.com/oauth',
			'https://example.com/oauth/',
			clientId,
		]) {
			const metadata = buildClientMetadata({ ...base, client_id: clientId, client_uri: clientUri }, keyset);
			expect(metadata.client_uri, clientUri).toBe(clientUri);
		}
	});

	it('refuses a client_uri elsewhere on the origin, or on another, as the reference server does at sign-in', () => {
		const clientId = 'https://example.com/oauth/client-metadata.json';
		for (const clientUri of [
			'https://example.com/about',
			'https://example.com/oa',
			'https://example.com/oauth/client-metadata.json/more',
			'https://example.com:8443/',
			'https://www.example.com/',
		]) {
			expect(
				() => buildClientMetadata({ ...base, client_id: clientId, client_uri: clientUri }, keyset),
				clientUri,
			).toThrow(
				/"client_uri" must be on client_id's origin \(https:\/\/example\.com\) at client_id's path or a folder above it/,
			);
		}
	});

	it('names jwks_uri instead of inlining keys, wherever it is served', () => {
		for (const jwksUri of ['https://example.com/jwks.json', 'https://keys.example.net/app/jwks.json']) {
			const metadata = buildClientMetadata({ ...base, jwks_uri: jwksUri }, keyset);
			expect(metadata.jwks_uri).toBe(jwksUri);
			expect(metadata.jwks).toBeUndefined();
		}
	});

	it('names only the rules it applies when it refuses a jwks_uri or logo_uri host', () => {
		// these take a .test or .example host: a message listing those as refused would send the
		// reader to move a host that is fine
		for (const jwksUri of ['https://keys.test/jwks.json', 'https://keys.example/jwks.json']) {
			expect(buildClientMetadata({ ...base, jwks_uri: jwksUri }, keyset).jwks_uri).toBe(jwksUri);
		}
		for (const change of [
			{ jwks_uri: 'https://keys/jwks.json' },
			{ logo_uri: 'https://cdn.local/logo.png' },
		]) {
			const error = (() => {
				try {
					buildClientMetadata({ ...base, ...change }, keyset);
				} catch (err) {
					return err as Error;
				}
			})();
			expect(error).toBeInstanceOf(TypeError);
			expect(error?.message).toMatch(/one label, or under \.local\b/);
			expect(error?.message).not.toMatch(/\.test|\.example|\.invalid|\.localhost/);
		}
	});

	it('adds atproto, drops duplicates and keeps order', () => {
		expect(
			buildClientMetadata({ ...base, scope: ['transition:generic', 'transition:generic'] }, keyset).scope,
		).toBe('atproto transition:generic');
		expect(buildClientMetadata({ ...base, scope: 'atproto transition:email' }, keyset).scope).toBe(
			'atproto transition:email',
		);
	});

	it('reads a scope string with doubled, leading or trailing spaces as its tokens, as authorize() does', () => {
		const spaced = { ...base, scope: ' atproto  transition:generic ' };
		expect(buildClientMetadata(spaced, keyset).scope).toBe('atproto transition:generic');
		const loopback = buildLoopbackClientMetadata({
			redirect_uris: ['http://127.0.0.1:3000/callback'],
			scope: 'transition:generic  transition:email',
		});
		expect(new URL(loopback.client_id).searchParams.get('scope')).toBe(
			'atproto transition:generic transition:email',
		);
	});

	const invalid: [string, Partial<ClientMetadataInput> | Record<string, unknown>, RegExp][] = [
		['client_id missing', { client_id: undefined }, /"client_id" must be a URL/],
		[
			'client_id over http',
			{ client_id: 'http://example.com/meta.json' },
			/"client_id" must be an https URL/,
		],
		['client_id on an IP', { client_id: 'https://10.0.0.1/meta.json' }, /"client_id" must use a domain name/],
		['client_id without a path', { client_id: 'https://example.com/' }, /"client_id" must have a path/],
		[
			'client_id with a fragment',
			{ client_id: 'https://example.com/m.json#x' },
			/"client_id" must not contain a fragment/,
		],
		[
			'client_id not canonical',
			{ client_id: 'https://EXAMPLE.com/m.json' },
			/"client_id" must be in canonical form/,
		],
		['no redirect_uris', { redirect_uris: [] }, /"redirect_uris" must be a non-empty list/],
		[
			'an http redirect URI',
			{ redirect_uris: ['http://example.com/cb'] },
			/"redirect_uris\[0\]" must use https/,
		],
		['a bad scope', { scope: ['atproto', 'repo:'] }, /"scope" has an invalid scope "repo:"/],
		['an empty scope token', { scope: ['atproto', ''] }, /"scope\[1\]" must be a non-empty string/],
		[
			'a scope with a character OAuth scopes cannot hold',
			{ scope: ['atproto', 'blob:image/png"'] },
			/"scope" has "blob:image\/png\\"", which holds a character no OAuth scope may \(RFC 6749 §3\.3/,
		],
		[
			'a scope with a backslash',
			{ scope: 'atproto blob?accept=image/png\\' },
			/which holds a character no OAuth scope may/,
		],
		['client_uri over http', { client_uri: 'http://example.com' }, /"client_uri" must use https/],
		[
			'client_uri on another host than client_id',
			{ client_uri: 'https://evil.example.net/' },
			/"client_uri" must be on client_id's origin/,
		],
		// what the reference authorization server refuses at the first sign-in, refused at once
		[
			'client_id ending in a slash',
			{ client_id: 'https://example.com/client/' },
			/"client_id" must not end its path with "\/"/,
		],
		[
			'client_id on one label',
			{ client_id: 'https://intranet/meta.json' },
			/"client_id" must be on a public domain name/,
		],
		[
			'client_id under .test',
			{ client_id: 'https://app.test/meta.json' },
			/"client_id" must be on a public domain name/,
		],
		[
			'client_id under .local',
			{ client_id: 'https://app.local/meta.json' },
			/"client_id" must be on a public domain name/,
		],
		[
			'a redirect URI on a loopback host',
			{ redirect_uris: ['https://example.com/cb', 'https://127.0.0.1/cb'] },
			/"redirect_uris\[1\]" must not be on a loopback host/,
		],
		[
			'a redirect URI on localhost',
			{ redirect_uris: ['https://localhost/cb'] },
			/"redirect_uris\[0\]" must not be on a loopback host/,
		],
		[
			'a redirect URI on [::1]',
			{ redirect_uris: ['https://[::1]/cb'] },
			/"redirect_uris\[0\]" must not be on a loopback host/,
		],
		[
			'a redirect URI under .example',
			{ redirect_uris: ['https://app.example/cb'] },
			/"redirect_uris\[0\]" must be on a public domain name/,
		],
		[
			'a redirect URI on one label',
			{ redirect_uris: ['https://intranet/cb'] },
			/"redirect_uris\[0\]" must be on a public domain name/,
		],
		[
			'a redirect URI written in upper case',
			{ redirect_uris: ['HTTPS://example.com/cb'] },
			/"redirect_uris\[0\]" must start with "https:\/\/" as written/,
		],
		[
			'a redirect URI without slashes',
			{ redirect_uris: ['https:example.com/cb'] },
			/must start with "https:\/\/"/,
		],
		[
			'a redirect URI with a leading space',
			{ redirect_uris: [' https://example.com/cb'] },
			/must start with "https:\/\/"/,
		],
		[
			'a logo on localhost',
			{ logo_uri: 'https://localhost/logo.png' },
			/"logo_uri" must not be on a loopback host/,
		],
		[
			'a logo under .local',
			{ logo_uri: 'https://cdn.local/logo.png' },
			/"logo_uri" must be on a public domain name/,
		],
		['terms on 127.0.0.1', { tos_uri: 'https://127.0.0.1/tos' }, /"tos_uri" must not be on a loopback host/],
		[
			'a policy in upper case',
			{ policy_uri: 'HTTPS://example.com/policy' },
			/"policy_uri" must start with "https:\/\/"/,
		],
		[
			'jwks_uri on one label',
			{ jwks_uri: 'https://keys/jwks.json' },
			/"jwks_uri" must be on a public domain name/,
		],
		[
			'jwks_uri on a loopback host',
			{ jwks_uri: 'https://127.0.0.1/jwks.json' },
			/"jwks_uri" must not be on a loopback host/,
		],
	];
	for (const [what, change, message] of invalid) {
		it(`refuses ${what} with a TypeError naming the field`, () => {
			expect(() => buildClientMetadata({ ...base, ...change } as ClientMetadataInput, keyset)).toThrow(
				message,
			);
		});
	}

	it('requires an ES256 key in the keyset', async () => {
		const rsaOnly = new Keyset([await generatePrivateKey('rsa', 'RS256')]);
		expect(() => buildClientMetadata(base, rsaOnly)).toThrow(/ES256/);
	});
});

describe('buildLoopbackClientMetadata', () => {
	it('puts the redirect URIs and scope into an http://localhost client id', () => {
		const metadata = buildLoopbackClientMetadata({
			redirect_uris: ['http://127.0.0.1:3000/callback', 'http://[::1]:3000/callback'],
			scope: 'atproto transition:generic',
		});
		const url = new URL(metadata.client_id);
		expect(url.origin).toBe('http://localhost');
		expect(url.searchParams.getAll('redirect_uri')).toEqual([
			'http://127.0.0.1:3000/callback',
			'http://[::1]:3000/callback',
		]);
		expect(url.searchParams.get('scope')).toBe('atproto transition:generic');
		expect(metadata).toMatchObject({ token_endpoint_auth_method: 'none', application_type: 'native' });
	});

	it('leaves the scope out of the client id when it is just atproto', () => {
		const metadata = buildLoopbackClientMetadata({
			redirect_uris: ['http://127.0.0.1/cb'],
			scope: 'atproto',
		});
		expect(metadata.client_id).toBe('http://localhost?redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb');
	});

	it('refuses a redirect URI not written with a lower-case http://, which the server refuses in the client id', () => {
		for (const uri of ['HTTP://127.0.0.1:3000/cb', ' http://127.0.0.1:3000/cb', 'http:127.0.0.1/cb']) {
			expect(() => buildLoopbackClientMetadata({ redirect_uris: [uri], scope: 'atproto' }), uri).toThrow(
				/"redirect_uris\[0\]" must be http:\/\/127.0.0.1/,
			);
		}
	});

	it('refuses a redirect to the name localhost or over https', () => {
		expect(() =>
			buildLoopbackClientMetadata({ redirect_uris: ['http://localhost:3000/cb'], scope: 'atproto' }),
		).toThrow(/"redirect_uris\[0\]" must be http:\/\/127.0.0.1/);
		expect(() =>
			buildLoopbackClientMetadata({ redirect_uris: ['https://127.0.0.1/cb'], scope: 'atproto' }),
		).toThrow(/redirect_uris\[0\]/);
	});
});

describe('isLoopbackClientId', () => {
	it('recognises http://localhost with or without the empty path, and with a query', () => {
		for (const clientId of [
			undefined,
			'http://localhost',
			'http://localhost/',
			new URL('http://localhost').href,
			'http://localhost?scope=atproto',
			'http://localhost/?scope=atproto',
		]) {
			expect(isLoopbackClientId(clientId), String(clientId)).toBe(true);
		}
	});

	it('does not take other URLs for the loopback form', () => {
		for (const clientId of [
			'http://localhost/cb',
			'http://localhost//',
			'http://localhost:3000',
			'http://localhost:3000/',
			'http://localhost.example.com/',
			'https://localhost/',
			'http://127.0.0.1/',
			'https://example.com/oauth-client-metadata.json',
		]) {
			expect(isLoopbackClientId(clientId), clientId).toBe(false);
		}
	});
});
