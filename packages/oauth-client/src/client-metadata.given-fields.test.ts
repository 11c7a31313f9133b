import { generatePrivateKey, Keyset } from '@atcute/oauth-keys';
import { beforeAll, describe, expect, it } from 'vitest';

import {
	buildClientMetadata,
	buildLoopbackClientMetadata,
	type ClientMetadataInput,
} from './client-metadata.ts';
import { OAuthClient } from './oauth-client.ts';
import type { StoredSession, StoredState } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';

const base: ClientMetadataInput = {
	client_id: 'https://example.com/oauth-client-metadata.json',
	redirect_uris: ['https://example.com/oauth/callback'],
	scope: 'atproto',
};
const loopback: ClientMetadataInput = { redirect_uris: ['http://127.0.0.1:3000/callback'], scope: 'atproto' };

/** metadata with more fields than its type has, as JavaScript or a spread document passes it. */
const withFields = (input: ClientMetadataInput, more: Record<string, unknown>): ClientMetadataInput =>
	({ ...input, ...more }) as ClientMetadataInput;

// the README: the fixed fields are filled in, and a mistake throws a TypeError naming the metadata
// field; these were dropped without a word, the document saying otherwise than was written
describe('client metadata: a field the client builds, given with another value', () => {
	let keyset: Keyset;
	beforeAll(async () => {
		keyset = new Keyset([await generatePrivateKey('main')]);
	});

	it.each([
		['token_endpoint_auth_method', 'none', '"private_key_jwt"', '"none"'],
		['application_type', 'native', '"web"', '"native"'],
		['token_endpoint_auth_signing_alg', 'RS256', '"ES256"', '"RS256"'],
		['dpop_bound_access_tokens', false, 'true', 'false'],
		[
			'grant_types',
			['authorization_code'],
			'["authorization_code","refresh_token"]',
			'["authorization_code"]',
		],
		['response_types', ['code', 'token'], '["code"]', '["code","token"]'],
	])('refuses %s: %j for a client with a keyset, naming it', (field, value, made, got) => {
		expect(() => buildClientMetadata(withFields(base, { [field]: value }), keyset)).toThrow(
			new TypeError(
				`client metadata "${field}" is built by the client (${made} for a client with a keyset), got ${got}: omit it`,
			),
		);
	});

	it('refuses jwks other than the keyset’s, without repeating it', () => {
		const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'other' }] };
		expect(() => buildClientMetadata(withFields(base, { jwks }), keyset)).toThrow(
			'client metadata "jwks" is built from keyset (its public keys), and differs from it: omit it (or give jwks_uri)',
		);
	});

	it('refuses what a loopback client does not have, or has otherwise', () => {
		expect(() =>
			buildLoopbackClientMetadata(withFields(loopback, { token_endpoint_auth_method: 'private_key_jwt' })),
		).toThrow(
			new TypeError(
				'client metadata "token_endpoint_auth_method" is built by the client ("none" for a loopback client), got "private_key_jwt": omit it',
			),
		);
		expect(() =>
			buildLoopbackClientMetadata(withFields(loopback, { token_endpoint_auth_signing_alg: 'ES256' })),
		).toThrow(
			new TypeError(
				'client metadata "token_endpoint_auth_signing_alg" is not in the metadata of a loopback client, got "ES256": omit it',
			),
		);
	});

	it('takes a document written out in full, with the values the client builds (lists in any order)', () => {
		const full = withFields(base, {
			grant_types: ['refresh_token', 'authorization_code'],
			response_types: ['code'],
			application_type: 'web',
			token_endpoint_auth_method: 'private_key_jwt',
			token_endpoint_auth_signing_alg: 'ES256',
			dpop_bound_access_tokens: true,
			jwks: keyset.publicJwks,
		});
		expect(buildClientMetadata(full, keyset)).toEqual(buildClientMetadata(base, keyset));
		const loopbackFull = withFields(loopback, {
			token_endpoint_auth_method: 'none',
			application_type: 'native',
		});
		expect(buildLoopbackClientMetadata(loopbackFull)).toEqual(buildLoopbackClientMetadata(loopback));
	});

	it('takes the keyset’s JWKS with its keys and their members written in another order', () => {
		// the same keys as a JSON file or node:crypto's export writes them: members in another order
		const jwks = {
			keys: keyset.publicJwks.keys.map((jwk) => Object.fromEntries(Object.entries(jwk).reverse())).reverse(),
		};
		expect(JSON.stringify(jwks)).not.toBe(JSON.stringify(keyset.publicJwks));
		expect(buildClientMetadata(withFields(base, { jwks }), keyset)).toEqual(
			buildClientMetadata(base, keyset),
		);
	});
});

describe('client metadata: a field it neither takes nor builds', () => {
	let keyset: Keyset;
	beforeAll(async () => {
		keyset = new Keyset([await generatePrivateKey('main')]);
	});

	it.each(['logo_url', 'redirect_uri', 'contacts'])(
		'refuses %s, naming it and the fields it takes',
		(field) => {
			const message = `client metadata has no field "${field}" (it takes client_id, redirect_uris, scope, jwks_uri, client_name, client_uri, logo_uri, tos_uri, policy_uri; the client builds grant_types, response_types, application_type, token_endpoint_auth_method, token_endpoint_auth_signing_alg, dpop_bound_access_tokens, jwks)`;
			expect(() => buildClientMetadata(withFields(base, { [field]: 'x' }), keyset)).toThrow(
				new TypeError(message),
			);
			expect(() => buildLoopbackClientMetadata(withFields(loopback, { [field]: 'x' }))).toThrow(
				new TypeError(message),
			);
		},
	);

	it('takes a field set to undefined as absent', () => {
		expect(buildClientMetadata(withFields(base, { contacts: undefined }), keyset)).toEqual(
			buildClientMetadata(base, keyset),
		);
	});

	it('is refused by new OAuthClient as well, before anything else', () => {
		const options = {
			metadata: withFields(base, { token_endpoint_auth_method: 'none' }),
			keyset,
			stores: { sessions: new MapStore<StoredSession>(), states: new MapStore<StoredState>() },
			actorResolver: { resolve: async () => ({}) },
		};
		expect(() => new OAuthClient(options as never)).toThrow(
			/^client metadata "token_endpoint_auth_method" is built by the client \("private_key_jwt" for a client with a keyset\), got "none": omit it$/,
		);
	});
});
