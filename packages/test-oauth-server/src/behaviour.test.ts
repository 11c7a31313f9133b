import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { startTestOAuthServer } from './start-test-oauth-server.ts';
import type { TestOAuthServer } from './test-oauth-server.ts';
import { MiniClient, type Tokens } from './test-utils/mini-client.ts';

let server: TestOAuthServer;
let did: string;
let client: MiniClient;

beforeAll(async () => {
	server = await startTestOAuthServer();
	did = server.createAccount({ handle: 'dave.test' }).did;
	client = await MiniClient.confidential(server);
});
afterAll(async () => {
	await server.close();
});
beforeEach(() => {
	server.reset();
});

const json = async (response: Response): Promise<Record<string, unknown>> => {
	return (await response.json()) as Record<string, unknown>;
};

describe('the authorization redirect', () => {
	it('carries issOverride, no iss with omitIss, and stateOverride', async () => {
		server.behaviour.issOverride = 'https://evil.example.com';
		server.behaviour.stateOverride = 'not-yours';
		let pending = await client.pushAuthorization();
		let redirect = await server.authorize(pending.authorizationUrl, { did });
		expect(redirect.get('iss')).toBe('https://evil.example.com');
		expect(redirect.get('state')).toBe('not-yours');

		server.reset();
		server.behaviour.omitIss = true;
		pending = await client.pushAuthorization();
		redirect = await server.authorize(pending.authorizationUrl, { did });
		expect(redirect.has('iss')).toBe(false);
		expect(redirect.get('state')).toBe(pending.state);
	});
});

describe('token responses', () => {
	it('carry subOverride, tokenScopeOverride and tokenTypeOverride, and no refresh token with omitRefreshToken', async () => {
		Object.assign(server.behaviour, {
			subOverride: 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb',
			tokenScopeOverride: 'transition:generic',
			tokenTypeOverride: 'Bearer',
			omitRefreshToken: true,
		});
		const tokens = await client.signIn(did);
		expect(tokens).toMatchObject({
			sub: 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb',
			scope: 'transition:generic',
			token_type: 'Bearer',
		});
		expect(tokens).not.toHaveProperty('refresh_token');
		// the session itself is untouched
		expect(server.sessions(did).at(-1)).toMatchObject({ did, scope: 'atproto transition:generic' });
	});

	it('use behaviour.accessTokenTtl, and expireAccessTokens ends the access tokens', async () => {
		server.behaviour.accessTokenTtl = 5;
		const tokens = await client.signIn(did);
		expect(tokens.expires_in).toBe(5);
		expect((await client.resource(tokens.access_token)).status).toBe(200);

		server.expireAccessTokens(did);
		const expired = await client.resource(tokens.access_token);
		expect(expired.status).toBe(401);
		expect(await json(expired)).toEqual({ error: 'invalid_token', message: 'Token expired' });
		expect((await client.refresh(tokens.refresh_token!)).status).toBe(200);
	});

	it('is padded to 1 MiB with oversizedTokenResponse', async () => {
		server.behaviour.oversizedTokenResponse = true;
		const pending = await client.pushAuthorization();
		const redirect = await server.authorize(pending.authorizationUrl, { did });
		const response = await client.exchange(pending, redirect.get('code')!);
		expect(Number(response.headers.get('content-length'))).toBeGreaterThan(1024 * 1024);
		await response.arrayBuffer();
	});
});

describe('refresh failures', () => {
	let tokens: Tokens;
	beforeEach(async () => {
		tokens = await client.signIn(did);
	});

	it('status_503 and status_429 leave the refresh token usable', async () => {
		server.behaviour.refreshFailure = 'status_503';
		const unavailable = await client.refresh(tokens.refresh_token!);
		expect(unavailable.status).toBe(503);
		expect(await json(unavailable)).toMatchObject({ error: 'temporarily_unavailable' });

		server.behaviour.refreshFailure = 'status_429';
		const limited = await client.refresh(tokens.refresh_token!);
		expect(limited.status).toBe(429);
		expect(limited.headers.get('retry-after')).toBe('1');
		await limited.arrayBuffer();

		server.behaviour.refreshFailure = undefined;
		expect((await client.refresh(tokens.refresh_token!)).status).toBe(200);
		expect(server.stats.refreshAttempts).toBe(3);
		expect(server.stats.token.refresh_token).toBe(1);
		server.assertNoRejections();
	});

	it('network destroys the socket and leaves the refresh token usable', async () => {
		server.behaviour.refreshFailure = 'network';
		await expect(client.refresh(tokens.refresh_token!)).rejects.toThrow(TypeError);
		expect(server.stats.requests.at(-1)).toMatchObject({ path: '/oauth/token', status: 0 });
		server.behaviour.refreshFailure = undefined;
		expect((await client.refresh(tokens.refresh_token!)).status).toBe(200);
	});

	it('network_after_rotation loses the new tokens: the old refresh token is then a replay', async () => {
		server.behaviour.refreshFailure = 'network_after_rotation';
		await expect(client.refresh(tokens.refresh_token!)).rejects.toThrow(TypeError);
		server.behaviour.refreshFailure = undefined;
		const retry = await client.refresh(tokens.refresh_token!);
		expect(await json(retry)).toEqual({
			error: 'invalid_grant',
			error_description: 'refresh token replayed',
		});
	});

	it('invalid_grant revokes the session', async () => {
		server.behaviour.refreshFailure = 'invalid_grant';
		const response = await client.refresh(tokens.refresh_token!);
		expect(response.status).toBe(400);
		expect(await json(response)).toMatchObject({ error: 'invalid_grant' });
		expect(server.sessions(did).at(-1)?.active).toBe(false);
		// a misbehaviour asked for is not a client mistake
		server.assertNoRejections();
	});

	it('tokenDelayMs delays the answer (a client timeout aborts it)', async () => {
		server.behaviour.tokenDelayMs = 60;
		const started = Date.now();
		expect((await client.refresh(tokens.refresh_token!)).status).toBe(200);
		expect(Date.now() - started).toBeGreaterThanOrEqual(55);

		const url = `${server.issuer}/oauth/token`;
		await expect(fetch(url, { method: 'POST', signal: AbortSignal.timeout(20) })).rejects.toThrow(/abort/i);
	});
});

describe('resource server', () => {
	it('invalidTokenOnce answers 401 invalid_token once, then works again', async () => {
		const tokens = await client.signIn(did);
		server.behaviour.invalidTokenOnce = true;
		const first = await client.resource(tokens.access_token);
		expect(first.status).toBe(401);
		expect(first.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
		await first.arrayBuffer();
		expect(server.behaviour.invalidTokenOnce).toBe(false);
		expect((await client.resource(tokens.access_token)).status).toBe(200);
	});

	it('refuseEveryToken answers 401 invalid_token to every call, fresh tokens included, until turned off', async () => {
		const tokens = await client.signIn(did);
		server.behaviour.refuseEveryToken = true;
		for (const token of [tokens.access_token, (await client.signIn(did)).access_token]) {
			const refused = await client.resource(token);
			expect(refused.status).toBe(401);
			expect(refused.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
			await refused.arrayBuffer();
		}
		server.behaviour.refuseEveryToken = false;
		expect((await client.resource(tokens.access_token)).status).toBe(200);
	});

	it('revokeAllTokensFor ends every session of a DID', async () => {
		const tokens = await client.signIn(did);
		expect(server.revokeAllTokensFor(did)).toBeGreaterThanOrEqual(1);
		const response = await client.resource(tokens.access_token);
		expect(await json(response)).toMatchObject({ message: 'Token revoked: revoked by the server' });
	});
});

describe('the PLC directory', () => {
	it('didDocumentFailure answers 503 or drops the connection', async () => {
		server.behaviour.didDocumentFailure = 'status_503';
		const response = await fetch(`${server.plcUrl}/${did}`);
		expect(response.status).toBe(503);
		await response.arrayBuffer();

		server.behaviour.didDocumentFailure = 'network';
		await expect(fetch(`${server.plcUrl}/${did}`)).rejects.toThrow();

		server.behaviour.didDocumentFailure = undefined;
		expect(await json(await fetch(`${server.plcUrl}/${did}`))).toMatchObject({ id: did });
	});
});

describe('metadata', () => {
	const asMetadata = `/.well-known/oauth-authorization-server`;

	it('oversizedMetadata pads the document to 1 MiB, metadataDelayMs delays it', async () => {
		server.behaviour.oversizedMetadata = true;
		server.behaviour.metadataDelayMs = 50;
		const started = Date.now();
		const response = await fetch(server.issuer + asMetadata);
		expect(Date.now() - started).toBeGreaterThanOrEqual(45);
		expect(Number(response.headers.get('content-length'))).toBeGreaterThan(1024 * 1024);
		expect(await json(response)).toMatchObject({ issuer: server.issuer });
	});

	it('redirectMetadata answers a 302 to the same document elsewhere', async () => {
		server.behaviour.redirectMetadata = true;
		const response = await fetch(server.issuer + asMetadata, { redirect: 'manual' });
		expect(response.status).toBe(302);
		const location = response.headers.get('location')!;
		expect(location).not.toBe(server.issuer + asMetadata);
		expect(await json(await fetch(location))).toMatchObject({ issuer: server.issuer });

		server.behaviour.redirectResourceMetadata = true;
		const prm = await fetch(`${server.pdsUrl}/.well-known/oauth-protected-resource`, { redirect: 'manual' });
		expect(prm.status).toBe(302);
	});

	it('metadataOverrides and metadataContentType change the document', async () => {
		server.behaviour.metadataOverrides = {
			issuer: 'https://elsewhere.example.com',
			authorization_response_iss_parameter_supported: undefined,
		};
		server.behaviour.metadataContentType = 'text/plain';
		const response = await fetch(server.issuer + asMetadata);
		expect(response.headers.get('content-type')).toBe('text/plain');
		const document = await json(response);
		expect(document.issuer).toBe('https://elsewhere.example.com');
		expect(document).not.toHaveProperty('authorization_response_iss_parameter_supported');
	});
});

describe('DPoP nonces', () => {
	it('rotateNonce makes the next proof stale: one challenge, one retry', async () => {
		await client.pushAuthorization();
		server.reset();
		server.rotateNonce();
		await client.pushAuthorization();
		expect(server.stats.nonceRetries).toEqual({ as: 1, pds: 0 });
		expect(server.stats.requests.map((r) => r.status)).toEqual([400, 201]);
	});

	it('rotateNonceEveryRequest announces a new nonce in every answer', async () => {
		await client.pushAuthorization();
		server.behaviour.rotateNonceEveryRequest = true;
		const before = server.nonces.as;
		await client.pushAuthorization();
		expect(server.nonces.as).not.toBe(before);
		expect(client.nonces.get(server.issuer)).toBe(server.nonces.as);
		// the client followed the announced nonce: no challenge
		expect(server.stats.nonceRetries.as).toBe(0);
	});

	it('rejectEveryNonce refuses even a retried proof', async () => {
		server.behaviour.rejectEveryNonce = true;
		await expect(client.pushAuthorization()).rejects.toThrow(/PAR answered 400: DPoP "nonce" mismatch/);
		expect(server.stats.nonceRetries.as).toBe(2);
	});

	it('omitDpopNonceHeader drops the DPoP-Nonce header', async () => {
		server.behaviour.omitDpopNonceHeader = true;
		const response = await fetch(`${server.pdsUrl}/.well-known/oauth-protected-resource`);
		expect(response.headers.has('dpop-nonce')).toBe(false);
		await response.arrayBuffer();
	});

	it('clockSkewSeconds moves the server clock: the Date header and the iat check', async () => {
		server.behaviour.clockSkewSeconds = 3600;
		const response = await fetch(`${server.issuer}/.well-known/oauth-authorization-server`);
		const date = Date.parse(response.headers.get('date')!);
		expect(date - Date.now()).toBeGreaterThan(3500 * 1000);
		await response.arrayBuffer();
		await expect(client.pushAuthorization()).rejects.toThrow(/"iat" is 360[01] s behind the server clock/);
	});
});

describe('reset', () => {
	it('turns every switch off and zeroes the stats in place', async () => {
		const { stats, behaviour } = server;
		behaviour.omitIss = true;
		behaviour.tokenDelayMs = 10;
		await client.pushAuthorization();
		expect(stats.par).toBe(1);
		server.reset();
		expect(server.behaviour).toBe(behaviour);
		expect(behaviour).toEqual({});
		expect(server.stats).toBe(stats);
		expect(stats).toMatchObject({ par: 0, requests: [], rejections: [], nonceRetries: { as: 0, pds: 0 } });
	});
});
