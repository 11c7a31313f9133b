import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { startTestOAuthServer } from './start-test-oauth-server.ts';
import type { TestOAuthServer } from './test-oauth-server.ts';
import { MiniClient, makeKey, random, type Tokens } from './test-utils/mini-client.ts';

let server: TestOAuthServer;
let did: string;
let client: MiniClient;

beforeAll(async () => {
	server = await startTestOAuthServer();
	did = server.createAccount({ handle: 'carol.test' }).did;
	client = await MiniClient.confidential(server);
});
afterAll(async () => {
	await server.close();
});
beforeEach(() => {
	server.reset();
});

const errorOf = async (response: Response): Promise<{ error: string; description: string }> => {
	const body = (await response.json()) as { error: string; error_description?: string; message?: string };
	return { error: body.error, description: body.error_description ?? body.message ?? '' };
};

/** a PAR with the right parameters and a custom assertion. */
const parWith = async (assertion: Parameters<MiniClient['assertion']>[0]): Promise<Response> => {
	return client.post(
		'/oauth/par',
		{
			response_type: 'code',
			code_challenge: 'a'.repeat(43),
			code_challenge_method: 'S256',
			state: random(),
			redirect_uri: client.metadata.redirect_uris[0]!,
			scope: 'atproto',
		},
		assertion,
	);
};

describe('client assertions', () => {
	it('refuses a bad signature', async () => {
		const response = await parWith({ key: await makeKey() });
		expect(response.status).toBe(401);
		expect(await errorOf(response)).toEqual({
			error: 'invalid_client',
			description: 'Validation of "client_assertion" failed: signature verification failed',
		});
		expect(server.stats.rejections).toEqual([
			expect.objectContaining({
				server: 'as',
				path: '/oauth/par',
				status: 401,
				error: 'invalid_client',
				reason: expect.stringMatching(/signature/),
			}),
		]);
		expect(() => server.assertNoRejections()).toThrow(/POST \/oauth\/par → 401 invalid_client/);
	});

	it('refuses a wrong aud', async () => {
		const response = await parWith({ aud: server.pdsUrl });
		expect(response.status).toBe(401);
		expect((await errorOf(response)).description).toBe(
			'Validation of "client_assertion" failed: unexpected "aud" claim value',
		);
	});

	it('refuses a replayed jti', async () => {
		const jti = random();
		expect((await parWith({ jti })).status).toBe(201);
		const replay = await parWith({ jti });
		expect(replay.status).toBe(401);
		expect(await errorOf(replay)).toEqual({
			error: 'invalid_client',
			description: `client_assertion jti reused ("${jti}")`,
		});
	});

	it('refuses a missing or unknown kid, a wrong iss and an expired assertion', async () => {
		const iat = Math.floor(Date.now() / 1000);
		const cases: [Parameters<MiniClient['assertion']>[0], RegExp][] = [
			[{ kid: null }, /"kid" required/],
			[{ kid: 'nope' }, /no key with kid "nope"/],
			[{ iss: 'https://other.example.com/client.json' }, /unexpected "iss" claim value/],
			[{ iat: iat - 120, exp: iat - 60 }, /"exp" claim timestamp check failed/],
		];
		for (const [options, reason] of cases) {
			const response = await parWith(options);
			expect(response.status).toBe(401);
			expect((await errorOf(response)).description).toMatch(reason);
		}
		expect(server.stats.rejections).toHaveLength(cases.length);
	});

	// as the reference server (jose's maxTokenAge, no tolerance): a client clock a second fast is refused
	it('refuses an iat ahead of the server clock, or over 60 s old; takes one without exp', async () => {
		const now = Math.floor(Date.now() / 1000);
		const ahead = await parWith({ iat: now + 2 });
		expect(ahead.status).toBe(401);
		expect((await errorOf(ahead)).description).toMatch(
			/"iat" claim timestamp check failed \(it should be in the past\)/,
		);
		const old = await parWith({ iat: now - 62, exp: now + 60 });
		expect(old.status).toBe(401);
		expect((await errorOf(old)).description).toMatch(
			/"iat" claim timestamp check failed \(too far in the past\)/,
		);
		expect((await parWith({ iat: now - 50 })).status).toBe(201);
		expect((await parWith({ exp: null })).status).toBe(201);
	});

	// RFC 7009 §2.2, as the reference server: only a DPoP proof's failure is answered as an error
	it('answers a revocation with a refused client 200, and revokes nothing', async () => {
		const tokens = await client.signIn(did);
		const response = await client.post(
			'/oauth/revoke',
			{ token: tokens.refresh_token! },
			{ iat: Math.floor(Date.now() / 1000) + 5 },
		);
		expect(response.status).toBe(200);
		expect(await response.json()).toEqual({});
		expect(server.sessions(did).at(-1)).toMatchObject({ active: true });
		expect(server.stats.revoke).toBe(0);
		expect(server.stats.rejections).toEqual([
			expect.objectContaining({
				path: '/oauth/revoke',
				status: 200,
				error: 'invalid_client',
				reason: expect.stringMatching(/^revocation ignored: Validation of "client_assertion" failed/),
			}),
		]);
		// the same revocation from a client the server takes revokes the grant
		const accepted = await client.post('/oauth/revoke', { token: tokens.refresh_token! });
		expect(accepted.status).toBe(200);
		expect(server.sessions(did).at(-1)).toMatchObject({ active: false });
	});

	it('refuses a DPoP proof signed with the assertion key', async () => {
		const own = client.dpopKey;
		client.dpopKey = client.assertionKey!;
		try {
			const response = await parWith({});
			expect(response.status).toBe(400);
			expect((await errorOf(response)).description).toMatch(/different key than the client assertion/);
		} finally {
			client.dpopKey = own;
		}
	});
});

describe('DPoP proofs', () => {
	it('challenges a proof without nonce with use_dpop_nonce, not as a rejection', async () => {
		const url = `${server.issuer}/oauth/par`;
		const response = await fetch(url, {
			method: 'POST',
			headers: { dpop: await client.proof({ htm: 'POST', htu: url }) },
			body: new URLSearchParams(await client.credentials()),
		});
		expect(response.status).toBe(400);
		expect(await response.json()).toEqual({
			error: 'use_dpop_nonce',
			error_description: 'Authorization server requires nonce in DPoP proof',
		});
		expect(response.headers.get('dpop-nonce')).toBe(server.nonces.as);
		expect(server.stats.nonceRetries.as).toBe(1);
		expect(server.stats.rejections).toEqual([]);
		expect(server.stats.requests.at(-1)).toMatchObject({ proof: 'nonce', status: 400 });

		const pds = `${server.pdsUrl}/xrpc/com.atproto.server.getSession`;
		const resource = await fetch(pds, {
			headers: {
				authorization: 'DPoP x',
				dpop: await client.proof({ htm: 'GET', htu: pds, accessToken: 'x' }),
			},
		});
		expect(resource.status).toBe(401);
		expect(resource.headers.get('www-authenticate')).toMatch(
			/^DPoP algs="[^"]+", error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"$/,
		);
		expect(resource.headers.get('dpop-nonce')).toBe(server.nonces.pds);
	});

	it('refuses a wrong ath, a wrong htu, a replayed jti, a missing proof and a wrong key', async () => {
		const tokens = await client.signIn(did);
		const token = tokens.access_token;
		const url = `${server.pdsUrl}/xrpc/com.atproto.server.getSession`;
		const nonce = server.nonces.pds;
		const call = async (dpop: string | undefined): Promise<Response> =>
			fetch(url, { headers: { authorization: `DPoP ${token}`, ...(dpop === undefined ? {} : { dpop }) } });

		const wrongAth = await call(await client.proof({ htm: 'GET', htu: url, nonce, accessToken: 'other' }));
		expect(wrongAth.status).toBe(401);
		expect(wrongAth.headers.get('www-authenticate')).toMatch(/error="invalid_dpop_proof"/);
		expect((await errorOf(wrongAth)).description).toMatch(/^DPoP "ath" mismatch/);

		const wrongHtu = await call(
			await client.proof({ htm: 'GET', htu: `${url}?x=1`, nonce, accessToken: token }),
		);
		expect((await errorOf(wrongHtu)).description).toMatch(/^DPoP "htu" mismatch/);

		const proof = await client.proof({ htm: 'GET', htu: url, nonce, accessToken: token });
		expect((await call(proof)).status).toBe(200);
		const replayed = await call(proof);
		expect(replayed.status).toBe(401);
		expect((await errorOf(replayed)).description).toMatch(/^DPoP proof replayed/);

		const missing = await call(undefined);
		expect((await errorOf(missing)).description).toBe('DPoP proof required');

		const otherKey = await call(
			await client.proof({ htm: 'GET', htu: url, nonce, accessToken: token, key: await makeKey() }),
		);
		expect(otherKey.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
		expect((await errorOf(otherKey)).description).toBe('Invalid DPoP key binding');

		const stale = await call(
			await client.proof({
				htm: 'GET',
				htu: url,
				nonce,
				accessToken: token,
				iat: Math.floor(Date.now() / 1000) - 300,
			}),
		);
		expect((await errorOf(stale)).description).toMatch(/"iat" is 30[01] s behind the server clock/);

		expect(server.stats.rejections.map((r) => r.error)).toEqual([
			'invalid_dpop_proof',
			'invalid_dpop_proof',
			'invalid_dpop_proof',
			'invalid_dpop_proof',
			'invalid_token',
			'invalid_dpop_proof',
		]);
		expect(server.stats.requests.filter((r) => r.proof === 'missing')).toHaveLength(1);
	});
});

describe('keys the server has imported before', () => {
	// the server imports a key once (a DPoP key, a JWKS key): each later signature is still checked
	it('refuses a proof or an assertion that names a known key but is signed by another', async () => {
		const tokens = await client.signIn(did);
		const token = tokens.access_token;
		const url = `${server.pdsUrl}/xrpc/com.atproto.server.getSession`;
		const nonce = server.nonces.pds;
		const call = async (key?: Parameters<MiniClient['proof']>[0]['key']): Promise<Response> =>
			fetch(url, {
				headers: {
					authorization: `DPoP ${token}`,
					dpop: await client.proof({ htm: 'GET', htu: url, nonce, accessToken: token, key }),
				},
			});
		expect((await call()).status).toBe(200);
		const forger = await makeKey();
		const forged = await call({ privateKey: forger.privateKey, publicJwk: client.dpopKey.publicJwk });
		expect(forged.status).toBe(401);
		expect((await errorOf(forged)).description).toBe(
			'Failed to verify DPoP proof: signature verification failed',
		);

		const assertion = await parWith({ key: forger });
		expect(assertion.status).toBe(401);
		expect((await errorOf(assertion)).description).toBe(
			'Validation of "client_assertion" failed: signature verification failed',
		);
		expect(server.stats.rejections).toHaveLength(2);
	});
});

describe("the server's sessions", () => {
	it('lists only the sessions not revoked when asked for the active ones', async () => {
		const own = await startTestOAuthServer();
		try {
			const dave = own.createAccount({ handle: 'dave.test' }).did;
			const other = await MiniClient.confidential(own);
			await other.signIn(dave);
			expect(own.revokeAllTokensFor(dave)).toBe(1);
			const live = await other.signIn(dave);
			expect(own.sessions(dave).map((s) => s.active)).toEqual([false, true]);
			expect(own.sessions(dave, { active: true })).toEqual([
				expect.objectContaining({ active: true, accessToken: live.access_token }),
			]);
			expect(own.revokeAllTokensFor(dave)).toBe(1);
			expect(own.sessions(dave, { active: true })).toEqual([]);
			expect(own.sessions(undefined, { active: true })).toEqual([]);
		} finally {
			await own.close();
		}
	});
});

describe('the token endpoint', () => {
	it('refuses a replayed code and revokes the tokens issued from it', async () => {
		const pending = await client.pushAuthorization();
		const redirect = await server.authorize(pending.authorizationUrl, { did });
		const first = await client.exchange(pending, redirect.get('code')!);
		expect(first.status).toBe(200);
		const tokens = (await first.json()) as Tokens;

		const second = await client.exchange(pending, redirect.get('code')!);
		expect(second.status).toBe(400);
		expect(await errorOf(second)).toEqual({
			error: 'invalid_grant',
			description: 'Invalid code: it was already used (the tokens issued from it are revoked)',
		});
		expect((await client.resource(tokens.access_token)).status).toBe(401);
		expect((await client.refresh(tokens.refresh_token!)).status).toBe(400);
	});

	it('refuses a replayed refresh token and revokes the whole family', async () => {
		const tokens = await client.signIn(did);
		const next = (await (await client.refresh(tokens.refresh_token!)).json()) as Tokens;

		const replay = await client.refresh(tokens.refresh_token!);
		expect(replay.status).toBe(400);
		expect(await errorOf(replay)).toEqual({ error: 'invalid_grant', description: 'refresh token replayed' });

		// the newest tokens of the family are dead too
		expect((await client.resource(next.access_token)).status).toBe(401);
		const newest = await client.refresh(next.refresh_token!);
		expect(newest.status).toBe(400);
		expect((await errorOf(newest)).description).toMatch(/session was revoked \(refresh token replayed\)/);
		expect(server.sessions(did).at(-1)).toMatchObject({
			active: false,
			revokedReason: 'refresh token replayed',
		});
		expect(server.stats.refreshAttempts).toBe(3);
	});

	it('refuses a wrong code_verifier, redirect_uri or DPoP key, spending the code', async () => {
		type Pending = Awaited<ReturnType<MiniClient['pushAuthorization']>>;
		const attempts: [(pending: Pending) => void, RegExp][] = [
			[
				(pending) => {
					pending.verifier = 'x'.repeat(43);
				},
				/Invalid code_verifier/,
			],
			[
				(pending) => {
					pending.redirectUri = 'https://elsewhere.example.com/cb';
				},
				/redirect_uri parameter must match/,
			],
		];
		for (const [spoil, reason] of attempts) {
			const pending = await client.pushAuthorization();
			const redirect = await server.authorize(pending.authorizationUrl, { did });
			spoil(pending);
			const response = await client.exchange(pending, redirect.get('code')!);
			expect(response.status).toBe(400);
			expect((await errorOf(response)).description).toMatch(reason);
		}

		const pending = await client.pushAuthorization();
		const redirect = await server.authorize(pending.authorizationUrl, { did });
		const own = client.dpopKey;
		client.dpopKey = await makeKey();
		try {
			const response = await client.exchange(pending, redirect.get('code')!);
			expect((await errorOf(response)).description).toMatch(/DPoP proof key differs/);
		} finally {
			client.dpopKey = own;
		}
		const again = await client.exchange(pending, redirect.get('code')!);
		expect((await errorOf(again)).description).toMatch(/already used/);
	});

	it('refuses a refresh with another DPoP key and revokes the session', async () => {
		const tokens = await client.signIn(did);
		const own = client.dpopKey;
		client.dpopKey = await makeKey();
		try {
			const response = await client.refresh(tokens.refresh_token!);
			expect((await errorOf(response)).description).toMatch(/DPoP proof key differs/);
		} finally {
			client.dpopKey = own;
		}
		expect((await client.refresh(tokens.refresh_token!)).status).toBe(400);
	});
});

describe('PAR and client metadata', () => {
	it('refuses a scope the metadata does not declare, and a request without atproto', async () => {
		const response = await client.post('/oauth/par', {
			response_type: 'code',
			code_challenge: 'a'.repeat(43),
			code_challenge_method: 'S256',
			state: random(),
			redirect_uri: client.metadata.redirect_uris[0]!,
			scope: 'atproto transition:chat.bsky',
		});
		expect(response.status).toBe(400);
		expect(await errorOf(response)).toEqual({
			error: 'invalid_scope',
			description: 'Scope "transition:chat.bsky" is not declared in the client metadata',
		});
		await expect(client.pushAuthorization({ scope: 'transition:generic' })).rejects.toThrow(
			/"atproto" scope is required/,
		);
	});

	it('refuses plain PKCE, a missing state and an unregistered redirect_uri', async () => {
		await expect(client.pushAuthorization({ code_challenge_method: 'plain' })).rejects.toThrow(/S256/);
		await expect(client.pushAuthorization({ state: '' })).rejects.toThrow(/"state" is required/);
		await expect(client.pushAuthorization({ redirect_uri: 'https://evil.example.com/cb' })).rejects.toThrow(
			/Invalid redirect_uri/,
		);
	});

	it('refuses an unregistered client and bad metadata with invalid_client_metadata', async () => {
		const stranger = await MiniClient.confidential(server);
		server.unregisterClient(stranger.clientId);
		await expect(stranger.pushAuthorization()).rejects.toThrow(/not registered with the test server/);

		const noDpop = await MiniClient.confidential(server, { dpop_bound_access_tokens: false });
		await expect(noDpop.pushAuthorization()).rejects.toThrow(/"dpop_bound_access_tokens" must be true/);
	});

	it('fails a refresh once the session key left the JWKS (key rotation)', async () => {
		const rotating = await MiniClient.confidential(server);
		const tokens = await rotating.signIn(did);
		server.registerClient({ ...rotating.metadata, jwks: { keys: [] } });
		const response = await rotating.refresh(tokens.refresh_token!);
		expect(response.status).toBe(401);
		expect((await errorOf(response)).description).toMatch(/no key with kid "k1"/);
	});
});
