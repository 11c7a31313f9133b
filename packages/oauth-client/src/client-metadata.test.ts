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

	it('keeps a client_uri on the client_id’s hostname, whatever its path', () => {
		expect(buildClientMetadata({ ...base, client_uri: 'https://example.com/about' }, keyset).client_uri).toBe(
			'https://example.com/about',
		);
	});

	it('names jwks_uri instead of inlining keys when given one on the same origin', () => {
		const metadata = buildClientMetadata({ ...base, jwks_uri: 'https://example.com/jwks.json' }, keyset);
		expect(metadata.jwks_uri).toBe('https://example.com/jwks.json');
		expect(metadata.jwks).toBeUndefined();
	});

	it('adds atproto, drops duplicates and keeps order', () => {
		expect(
			buildClientMetadata({ ...base, scope: ['transition:generic', 'transition:generic'] }, keyset).scope,
		).toBe('atproto transition:generic');
		expect(buildClientMetadata({ ...base, scope: 'atproto transition:email' }, keyset).scope).toBe(
			'atproto transition:email',
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
		[
			'jwks_uri elsewhere',
			{ jwks_uri: 'https://other.example/jwks.json' },
			/"jwks_uri" must be on the same origin/,
		],
		['client_uri over http', { client_uri: 'http://example.com' }, /"client_uri" must use https/],
		[
			'client_uri on another host than client_id',
			{ client_uri: 'https://evil.example.net/' },
			/"client_uri" must have the same hostname as client_id \(example\.com\)/,
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
