import type { Did } from '@atcute/lexicons';
import {
	importJwkKey,
	MemoryStore,
	SessionNotFoundError,
	type StoredSession,
} from '@atcute/oauth-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
	createApp,
	createOAuthClient,
	DEFAULT_SCOPE,
	FULL_BLUESKY_SCOPE,
	normalizePublicUrl,
} from '../src/index.ts';
import {
	browser,
	COOKIE_SECRET,
	generatePrivateKeyJwk,
	type Harness,
	PUBLIC_URL,
	startHarness,
} from './helpers.ts';

// the private members of EC and RSA JWKs, and the symmetric key of an oct JWK
const PRIVATE_JWK_FIELDS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

let harness: Harness;

beforeAll(async () => {
	harness = await startHarness();
});

afterAll(async () => {
	await harness.close();
});

describe('GET /oauth-client-metadata.json', () => {
	it('serves oauth.metadata, a confidential client under the public URL', async () => {
		const response = await browser(harness.app).request('/oauth-client-metadata.json');
		expect(response.status).toBe(200);
		expect(response.headers.get('content-type')).toMatch(/^application\/json/);
		const metadata = await response.json();
		expect(metadata).toEqual(harness.oauth.metadata);
		expect(metadata).toMatchObject({
			client_id: `${PUBLIC_URL}/oauth-client-metadata.json`,
			redirect_uris: [`${PUBLIC_URL}/oauth/callback`],
			jwks_uri: `${PUBLIC_URL}/jwks.json`,
			scope: 'atproto transition:generic',
			token_endpoint_auth_method: 'private_key_jwt',
			token_endpoint_auth_signing_alg: 'ES256',
			dpop_bound_access_tokens: true,
			application_type: 'web',
		});
		// the keys are served at jwks_uri, not inlined
		expect(metadata.jwks).toBeUndefined();
	});

	it('holds no private key material', async () => {
		const text = await (await browser(harness.app).request('/oauth-client-metadata.json')).text();
		const keys = new Set<string>();
		JSON.parse(text, (key, value) => {
			keys.add(key);
			return value;
		});
		for (const field of PRIVATE_JWK_FIELDS) expect(keys.has(field)).toBe(false);
	});
});

describe('GET /jwks.json', () => {
	it('serves oauth.jwks: the public half of the key, and nothing private', async () => {
		const response = await browser(harness.app).request('/jwks.json');
		expect(response.status).toBe(200);
		const jwks = await response.json();
		expect(jwks).toEqual(harness.oauth.jwks);
		expect(jwks.keys).toHaveLength(1);
		const [key] = jwks.keys;
		expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', kid: 'main', alg: 'ES256' });
		for (const field of PRIVATE_JWK_FIELDS) expect(key).not.toHaveProperty(field);
	});
});

describe('createOAuthClient', () => {
	it('asks for atproto and transition:generic by default', () => {
		expect(DEFAULT_SCOPE).toEqual(['atproto', 'transition:generic']);
	});

	it('asks for the documented full Bluesky scope list when told to', async () => {
		const oauth = await createOAuthClient({
			publicUrl: PUBLIC_URL,
			privateKeyJwk: await generatePrivateKeyJwk(),
			scope: FULL_BLUESKY_SCOPE,
		});
		expect(oauth.metadata.scope.split(' ')).toEqual([
			'atproto',
			'include:app.bsky.authFullApp?aud=did:web:api.bsky.app%23bsky_appview',
			'include:chat.bsky.authFullChatClient?aud=did:web:api.bsky.chat%23bsky_chat',
			'rpc:com.atproto.moderation.createReport?aud=*',
			'blob?accept=image/*&accept=video/*',
			'account:email?action=manage',
			'identity:handle',
		]);
	});

	it('imports the key from PRIVATE_KEY_JWK text, as the setup script writes it', async () => {
		const privateKeyJwk = await generatePrivateKeyJwk();
		const oauth = await createOAuthClient({ publicUrl: `${PUBLIC_URL}/`, privateKeyJwk });
		const key = await importJwkKey(privateKeyJwk);
		expect(oauth.jwks?.keys).toEqual([
			expect.objectContaining({ ...key.publicJwk, kid: 'main', alg: 'ES256' }),
		]);
		// the trailing slash is normalised away
		expect(oauth.metadata.client_id).toBe(`${PUBLIC_URL}/oauth-client-metadata.json`);
	});

	it('uses the stores and the name it is given', async () => {
		const asked: string[] = [];
		const sessions = new MemoryStore<Did, StoredSession>();
		const oauth = await createOAuthClient({
			publicUrl: PUBLIC_URL,
			privateKeyJwk: await generatePrivateKeyJwk(),
			stores: {
				sessions: {
					get: (did) => {
						asked.push(did);
						return sessions.get(did);
					},
					set: (did, value) => sessions.set(did, value),
					delete: (did) => sessions.delete(did),
					clear: () => sessions.clear(),
				},
				states: new MemoryStore(),
			},
			clientName: 'example app',
		});
		expect(oauth.metadata.client_name).toBe('example app');
		await expect(oauth.restore('did:plc:nobody')).rejects.toBeInstanceOf(SessionNotFoundError);
		expect(asked).toEqual(['did:plc:nobody']);
	});

	it('refuses a confidential client without a key, pointing at the setup script', async () => {
		await expect(createOAuthClient({ publicUrl: PUBLIC_URL })).rejects.toThrow(
			/PRIVATE_KEY_JWK.*setup-env\.mjs/,
		);
	});

	it('refuses a PUBLIC_URL that is not an https origin', () => {
		expect(() => normalizePublicUrl('http://app.example.com')).toThrow(/https/);
		expect(() => normalizePublicUrl('https://app.example.com/app')).toThrow(/origin with no path/);
		expect(() => normalizePublicUrl('not a url')).toThrow(/not a URL/);
		expect(normalizePublicUrl('  ')).toBeUndefined();
		expect(normalizePublicUrl(undefined)).toBeUndefined();
	});
});

describe('createApp', () => {
	it('refuses a short cookie secret', async () => {
		expect(() => createApp({ oauth: harness.oauth, cookieSecret: 'short' })).toThrow(/32 characters/);
		expect(() => createApp({ oauth: harness.oauth, cookieSecret: COOKIE_SECRET })).not.toThrow();
	});
});
