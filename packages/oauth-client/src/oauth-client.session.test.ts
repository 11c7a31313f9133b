import { createHash, generateKeyPairSync } from 'node:crypto';

import type {} from '@atcute/atproto';
import { Client } from '@atcute/client';
import type { Did } from '@atcute/lexicons';
import { generatePrivateKey, InvalidKeyError } from '@atcute/oauth-keys';
import { describe, expect, it, vi } from 'vitest';

import { REFRESH_MARGIN_MS } from './constants.ts';
import {
	AuthMethodUnsatisfiableError,
	InvalidResponseError,
	LockTimeoutError,
	OAuthResponseError,
	OAuthTransientError,
	SessionNotFoundError,
	TokenRefreshError,
	UnreadableSessionError,
} from './errors.ts';
import { DpopKeyCache } from './internal/dpop-key-cache.ts';
import { createMemoryLock, type LockFunction } from './lock.ts';
import type { OAuthSession } from './oauth-session.ts';
import {
	CLIENT_ID,
	signIn,
	type TestClock,
	type TestOAuthServer,
	type TestServerEnv,
	useTestServer,
} from './test-utils/setup.ts';
import type { OAuthTracer } from './tracer.ts';

/** a stored session as a store could hold it, any field missing or of another type. */
type LooseSession = { [field: string]: unknown; tokenSet?: Record<string, unknown> };

const getSession = async (session: OAuthSession) => {
	const result = await new Client({ handler: session }).get('com.atproto.server.getSession', {});
	if (!result.ok) throw new Error(`getSession failed: ${result.data.error}`);
	return result;
};

/** a fetch that records the `Authorization` header of every request it sends, in `sent`. */
const authorizationsSent = () => {
	const sent: string[] = [];
	const recording: typeof fetch = async (input, init) => {
		const authorization = new Headers(init?.headers).get('authorization');
		if (authorization !== null) sent.push(authorization);
		return fetch(input, init);
	};
	return { sent, fetch: recording };
};
describe('OAuthClient sessions', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	// one clock for the server and every client, so time can be moved for both
	let clock: TestClock;
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, clock, createTestClient } = env));

	it('restores a stored session without refreshing a fresh token', async () => {
		const { client } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const session = await client.restore(alice.did);
		expect((await getSession(session)).data.did).toBe(alice.did);
		expect(server.stats.token.refresh_token).toBe(0);
	});

	it('restores, uses and refreshes a session as upstream @atcute/oauth-node-client 2.x stored it', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		// upstream's shape: the DPoP key as WebCrypto exports it, the PDS URL with its slash, no issued_at
		const { issued_at: _none, ...tokenSet } = sessions.map.get(alice.did)!.tokenSet;
		const ours = sessions.map.get(alice.did)!;
		sessions.map.set(alice.did, {
			...ours,
			dpopKey: { ...ours.dpopKey, key_ops: ['sign'], ext: true } as never,
			tokenSet: { ...tokenSet, aud: `${new URL(tokenSet.aud).origin}/` },
		});

		const restored = await client.restore(alice.did);
		expect((await getSession(restored)).data.did).toBe(alice.did);
		await restored.refresh();
		expect((await getSession(restored)).data.did).toBe(alice.did);
		expect(server.stats.token.refresh_token).toBe(1);
		server.assertNoRejections();
	});

	it('keeps a session with an ES256K key (moved from @atproto/oauth-client-node) where nothing signs with it, and says why', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
		const { kty, crv, x, y, d } = privateKey.export({ format: 'jwk' });
		const moved = { ...sessions.map.get(alice.did)!, dpopKey: { kty, crv, x, y, d, alg: 'ES256K' } as never };
		sessions.map.set(alice.did, moved);
		const requests = server.stats.token.refresh_token;

		// WebCrypto has no secp256k1, and this client has no signer of its own
		for (const refresh of ['auto', true] as const) {
			const error = await client.restore(alice.did, { refresh }).catch((e) => e);
			expect(error).toBeInstanceOf(InvalidKeyError);
			expect(error).toMatchObject({ reason: 'unsupported_alg' });
			expect(error.message).toContain('ES256K');
		}
		expect(sessions.map.get(alice.did)).toBe(moved);
		expect(server.stats.token.refresh_token).toBe(requests);
	});

	it.each([
		['no dpopKey', (s: LooseSession) => delete s.dpopKey, /dpopKey is not a JWK/],
		['no authMethod', (s: LooseSession) => delete s.authMethod, /authMethod is not an object/],
		['authMethod as a string', (s: LooseSession) => (s.authMethod = 'private_key_jwt'), /authMethod is not/],
		['no tokenSet', (s: LooseSession) => delete s.tokenSet, /tokenSet is not an object/],
		['no issuer', (s: LooseSession) => delete s.tokenSet!.iss, /tokenSet\.iss is not a string/],
		['no PDS', (s: LooseSession) => delete s.tokenSet!.aud, /tokenSet\.aud is not a string/],
		[
			'expires_at as text',
			(s: LooseSession) => (s.tokenSet!.expires_at = new Date(0).toISOString()),
			/tokenSet\.expires_at is not a number/,
		],
	])(
		'keeps a stored session with %s and says what is wrong, sending nothing',
		async (_name, damage, problem) => {
			const { client, sessions } = await createTestClient(server);
			await signIn(server, client, alice.did);
			const damaged = structuredClone(sessions.map.get(alice.did)!) as unknown as LooseSession;
			damage(damaged);
			sessions.map.set(alice.did, damaged as never);
			const requests = server.stats.token.refresh_token;

			for (const refresh of ['auto', true] as const) {
				const error = await client.restore(alice.did, { refresh }).catch((e) => e);
				expect(error).toBeInstanceOf(UnreadableSessionError);
				expect(error).toMatchObject({ code: 'ERR_UNREADABLE_SESSION', did: alice.did, transient: false });
				expect(error.message).toMatch(problem);
			}
			expect(sessions.map.get(alice.did)).toBe(damaged);
			expect(server.stats.token.refresh_token).toBe(requests);

			// signing out still clears it
			await client.revoke(alice.did);
			expect(sessions.map.has(alice.did)).toBe(false);
		},
	);

	it.each([
		['without its private scalar', (key: Record<string, unknown>) => delete key.d, 'public_key'],
		['on another curve', (key: Record<string, unknown>) => (key.crv = 'P-384'), undefined],
		['whose private scalar is not base64url', (key: Record<string, unknown>) => (key.d = '!!!'), undefined],
	])(
		'keeps a stored session whose DPoP key is a JWK %s, as unreadable, sending nothing',
		async (_name, damage, reason) => {
			const { client, sessions, key } = await createTestClient(server);
			await signIn(server, client, alice.did);
			// another process, which has not imported the key yet
			const { client: other } = await createTestClient(server, { sessions, key });
			const damaged = structuredClone(sessions.map.get(alice.did)!);
			damage(damaged.dpopKey as unknown as Record<string, unknown>);
			sessions.map.set(alice.did, damaged);
			const requests = server.stats.token.refresh_token;

			for (const refresh of ['auto', true] as const) {
				const error = await other.restore(alice.did, { refresh }).catch((e) => e);
				expect(error).toBeInstanceOf(UnreadableSessionError);
				expect(error).toMatchObject({ did: alice.did, transient: false });
				expect(error.message).toMatch(/: dpopKey: /);
				expect(error.cause).toBeInstanceOf(InvalidKeyError);
				if (reason !== undefined) expect(error.cause).toMatchObject({ reason });
			}
			expect(sessions.map.get(alice.did)).toBe(damaged);
			expect(server.stats.token.refresh_token).toBe(requests);
		},
	);

	it("makes a session object that takes up another holder's session with a damaged DPoP key throw UnreadableSessionError", async () => {
		const { client, sessions } = await createTestClient(server);
		const { session } = await signIn(server, client, alice.did);
		// another process signs alice in again, with a DPoP key of its own, which is then damaged
		const { client: other } = await createTestClient(server, { sessions });
		await signIn(server, other, alice.did);
		const stored = structuredClone(sessions.map.get(alice.did)!);
		delete (stored.dpopKey as { d?: string }).d;
		// still fresh when the object's own token has expired: taken up as it is, with no refresh
		stored.tokenSet.expires_at = clock.now() + 10 * 3600_000;
		sessions.map.set(alice.did, stored);
		// the object's own token expires: its refresh finds the stored session and takes it up
		clock.advance(3600_000 + 1_000);

		const error = await session.handle('/xrpc/com.atproto.server.getSession').catch((e) => e);
		expect(error).toBeInstanceOf(UnreadableSessionError);
		expect(error.cause).toBeInstanceOf(InvalidKeyError);
		expect(sessions.map.get(alice.did)).toBe(stored);
	});

	it('keeps an ended session object ended when the session stored since has a damaged DPoP key: its old token is sent no more', async () => {
		const { sent, fetch: recording } = authorizationsSent();
		const { client, sessions } = await createTestClient(server, { fetch: recording });
		const { session } = await signIn(server, client, alice.did);
		const oldToken = sessions.map.get(alice.did)!.tokenSet.access_token;
		// signed out elsewhere: the object ends at its next refresh
		sessions.map.delete(alice.did);
		await expect(session.refresh()).rejects.toBeInstanceOf(SessionNotFoundError);
		// then signed in again by another process, whose stored key is damaged
		const { client: other } = await createTestClient(server, { sessions });
		await signIn(server, other, alice.did);
		const stored = structuredClone(sessions.map.get(alice.did)!);
		delete (stored.dpopKey as { d?: string }).d;
		sessions.map.set(alice.did, stored);

		for (let call = 0; call < 2; call++) {
			const error = await session.handle('/xrpc/com.atproto.server.getSession').catch((e) => e);
			expect(error).toBeInstanceOf(UnreadableSessionError);
		}
		expect(sent.filter((authorization) => authorization.includes(oldToken))).toHaveLength(0);
	});

	it('keeps a session object ended by a sign-out found while an earlier refresh of it imported a new key', async () => {
		const { sent, fetch: recording } = authorizationsSent();
		const { client, sessions } = await createTestClient(server, { fetch: recording });
		const { session } = await signIn(server, client, alice.did);
		// signed in again (a new DPoP key stored), whose key the object's next refresh imports, slowly
		await signIn(server, client, alice.did);
		const newKey = sessions.map.get(alice.did)!.dpopKey.d;
		let reached!: () => void;
		const atImport = new Promise<void>((resolve) => (reached = resolve));
		let release!: () => void;
		const released = new Promise<void>((resolve) => (release = resolve));
		const { get } = DpopKeyCache.prototype;
		// the refresh imports it first (under the lock); the object, taking up the refreshed session, next
		let asked = 0;
		const slow = vi.spyOn(DpopKeyCache.prototype, 'get').mockImplementation(async function (
			this: DpopKeyCache,
			jwk,
		) {
			if (jwk.d === newKey && ++asked === 2) {
				reached();
				await released;
			}
			return get.call(this, jwk);
		});
		try {
			const first = session.refresh();
			await atImport;
			// signed out elsewhere meanwhile: a second refresh of the object finds the session ended
			sessions.map.delete(alice.did);
			await expect(session.refresh()).rejects.toBeInstanceOf(SessionNotFoundError);
			release();
			// the first, which read the store before that, finds it ended too
			await expect(first).rejects.toBeInstanceOf(SessionNotFoundError);
		} finally {
			slow.mockRestore();
		}
		const before = sent.length;
		await expect(session.handle('/xrpc/com.atproto.server.getSession')).rejects.toBeInstanceOf(
			SessionNotFoundError,
		);
		expect(sent.slice(before)).toEqual([]);
	});

	it('hashes the PKCE challenge and each restored session’s ath with the given sha256', async () => {
		const hashed: string[] = [];
		const { client, sessions } = await createTestClient(server, {
			sha256: (text) => {
				hashed.push(text);
				return createHash('sha256').update(text).digest('base64url');
			},
		});
		// the server checks the challenge against the verifier: a sign-in that passes used our hash.
		// before it, the client key's thumbprint input (RFC 7638), once
		await signIn(server, client, alice.did);
		expect(hashed).toHaveLength(2);
		expect(JSON.parse(hashed[0]!)).toEqual({
			crv: 'P-256',
			kty: 'EC',
			x: expect.any(String),
			y: expect.any(String),
		});
		expect(hashed[1]).toMatch(/^[\w-]{43}$/);

		// a session hashes its access token once, however many calls it makes
		const session = await client.restore(alice.did);
		await getSession(session);
		await getSession(session);
		await getSession(await client.restore(alice.did));
		const { access_token } = sessions.map.get(alice.did)!.tokenSet;
		expect(hashed.slice(2)).toEqual([access_token, access_token]);
		server.assertNoRejections();
	});

	it('throws SessionNotFoundError for an account with no session', async () => {
		const { client } = await createTestClient(server);
		await expect(client.restore('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa')).rejects.toBeInstanceOf(
			SessionNotFoundError,
		);
	});

	it('refreshes on demand, rotating the refresh token, and stores the new tokens', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const before = sessions.map.get(alice.did)!.tokenSet;

		const session = await client.restore(alice.did, { refresh: true });
		const after = sessions.map.get(alice.did)!.tokenSet;
		expect(server.stats.token.refresh_token).toBe(1);
		expect(after.refresh_token).not.toBe(before.refresh_token);
		expect(after.access_token).not.toBe(before.access_token);
		expect((await getSession(session)).data.did).toBe(alice.did);
		server.assertNoRejections();
	});

	it('refreshes before the access token expires, when restored or when called', async () => {
		const { client } = await createTestClient(server);
		const { session } = await signIn(server, client, alice.did);
		const { expiresAt } = session.getTokenInfo();

		clock.advance(expiresAt!.getTime() - clock.now() - REFRESH_MARGIN_MS + 1000);
		// a session object held across the expiry refreshes on its next call
		expect((await getSession(session)).data.did).toBe(alice.did);
		expect(server.stats.token.refresh_token).toBe(1);

		// restoring a fresh session does not refresh again
		await client.restore(alice.did);
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('uses a 30 s access token for most of its life before refreshing it', async () => {
		server.behaviour.accessTokenTtl = 30;
		const { client } = await createTestClient(server);
		await signIn(server, client, alice.did);

		// neither restoring nor calling refreshes a token that has just arrived
		const session = await client.restore(alice.did);
		expect((await getSession(session)).data.did).toBe(alice.did);
		clock.advance(20_000);
		expect((await getSession(session)).data.did).toBe(alice.did);
		expect(server.stats.token.refresh_token).toBe(0);

		// within its last quarter it is refreshed, once, and the new token is used in turn
		clock.advance(3_000);
		expect((await getSession(session)).data.did).toBe(alice.did);
		expect((await getSession(session)).data.did).toBe(alice.did);
		expect(server.stats.token.refresh_token).toBe(1);
		server.assertNoRejections();
	});

	it('takes a token that expires at once (expires_in 0: a grant in its last second), and refreshes at the next call', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const session = await client.restore(alice.did);
		const events: string[] = [];
		client.addEventListener((event) => events.push(event.type));

		server.behaviour.accessTokenTtl = 0;
		const before = clock.now();
		const { expiresAt } = await session.refresh();
		// stored as it came (expiring when its request was sent), not refused as malformed: nothing
		// revoked, the session kept
		expect(expiresAt!.getTime()).toBeGreaterThanOrEqual(before);
		expect(expiresAt!.getTime()).toBeLessThanOrEqual(clock.now());
		expect(server.stats.token.refresh_token).toBe(1);
		expect(server.stats.revoke).toBe(0);
		expect(sessions.map.get(alice.did)!.tokenSet.expires_at).toBe(expiresAt!.getTime());

		// stale at once: the next call refreshes first (a server past the grant's end then says
		// invalid_grant, and that ends the session for the right reason)
		server.behaviour.accessTokenTtl = undefined;
		expect((await getSession(session)).data.did).toBe(alice.did);
		expect(server.stats.token.refresh_token).toBe(2);
		await vi.waitFor(() => expect(events).toEqual(['updated', 'updated']));
	});

	it('refreshes a session stored without issued_at (by an earlier release) 60 s before expiry, as before', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const { issued_at: _, ...tokenSet } = sessions.map.get(alice.did)!.tokenSet;
		await sessions.set(alice.did, { ...sessions.map.get(alice.did)!, tokenSet });

		const session = await client.restore(alice.did);
		expect(server.stats.token.refresh_token).toBe(0);
		clock.advance(tokenSet.expires_at! - clock.now() - REFRESH_MARGIN_MS + 1000);
		expect((await getSession(session)).data.did).toBe(alice.did);
		expect(server.stats.token.refresh_token).toBe(1);
		// the refreshed session is stored with issued_at: its lifetime is known from now on
		const refreshed = sessions.map.get(alice.did)!.tokenSet;
		expect(refreshed.expires_at! - refreshed.issued_at!).toBe(3600_000);
	});

	it('makes 50 concurrent calls on an expired token with exactly one refresh, all succeeding', async () => {
		const { client } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const session = await client.restore(alice.did);
		clock.advance(2 * 3600 * 1000);

		const results = await Promise.all(Array.from({ length: 50 }, () => getSession(session)));
		expect(results.every((result) => result.ok && result.data.did === alice.did)).toBe(true);
		expect(server.stats.token.refresh_token).toBe(1);
		expect(server.stats.refreshByDid.get(alice.did)).toBe(1);
		server.assertNoRejections();
	});

	it('makes 50 concurrent calls on a token the PDS rejects with exactly one refresh, all succeeding', async () => {
		const { client } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const sessions = await Promise.all(Array.from({ length: 50 }, () => client.restore(alice.did)));
		// the server ends the access token early; the client still believes it valid
		server.expireAccessTokens(alice.did);

		const results = await Promise.all(sessions.map((session) => getSession(session)));
		expect(results.every((result) => result.ok && result.data.did === alice.did)).toBe(true);
		expect(server.stats.token.refresh_token).toBe(1);
		// 50 proofs, 50 refusals, a refresh with its identity check and 50 retries: on a shared
		// machine this can take longer than the default 5 s
	}, 20_000);

	it('sends its own token in place of an Authorization header the caller gave, with or without other headers', async () => {
		const { client } = await createTestClient(server);
		const { session } = await signIn(server, client, alice.did);

		for (const headers of [{ Authorization: 'Bearer nope' }, [['authorization', 'DPoP nope']], undefined]) {
			const response = await session.handle('/xrpc/com.atproto.server.getSession', {
				...(headers === undefined ? {} : { headers: headers as HeadersInit }),
			});
			expect(response.status).toBe(200);
			expect(await response.json()).toMatchObject({ did: alice.did });
		}
	});

	it('retries a call after a reactive refresh, but not one whose body is a stream', async () => {
		const { client } = await createTestClient(server);
		const { session } = await signIn(server, client, alice.did);

		server.behaviour.invalidTokenOnce = true;
		const replayed = await session.handle('/xrpc/com.atproto.repo.createRecord', {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ hello: 'world' }),
		});
		expect(replayed.status).toBe(200);
		expect(await replayed.json()).toMatchObject({ echo: { hello: 'world' } });
		expect(server.stats.token.refresh_token).toBe(1);

		server.behaviour.invalidTokenOnce = true;
		const stream = new ReadableStream({
			start(controller) {
				controller.enqueue(new TextEncoder().encode('{"hello":"stream"}'));
				controller.close();
			},
		});
		const refused = await session.handle('/xrpc/com.atproto.repo.createRecord', {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: stream,
			duplex: 'half',
		} as RequestInit);
		expect(refused.status).toBe(401);
		// the refresh still happened: the next call passes
		expect(server.stats.token.refresh_token).toBe(2);
		expect((await getSession(session)).ok).toBe(true);
	});

	for (const failure of ['status_503', 'status_429', 'network'] as const) {
		it(`keeps the session when a refresh meets ${failure}, and throws a transient error`, async () => {
			const { client, sessions } = await createTestClient(server);
			await signIn(server, client, alice.did);
			const before = sessions.map.get(alice.did);
			server.behaviour.refreshFailure = failure;

			const error = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
			expect(error).toBeInstanceOf(OAuthTransientError);
			expect((error as OAuthTransientError).kind).toBe(
				failure === 'network' ? 'network' : failure === 'status_429' ? 'rate_limited' : 'server_error',
			);
			expect(sessions.map.get(alice.did)).toEqual(before);

			// once the server is back (and the 429's Retry-After of 1 s has passed: see
			// oauth-client.retry-after.test.ts), the same session refreshes
			server.behaviour.refreshFailure = undefined;
			if (failure === 'status_429') clock.advance(1000);
			await expect(client.restore(alice.did, { refresh: true })).resolves.toBeTruthy();
		});
	}

	it('lets go of the 401 it was answered when the refresh after it fails', async () => {
		// every invalid_token answer the PDS gives, as the session received it
		const refused: Response[] = [];
		const recording: typeof fetch = async (input, init) => {
			const response = await fetch(input, init);
			if (response.status === 401 && response.headers.get('www-authenticate')?.includes('invalid_token')) {
				refused.push(response);
			}
			return response;
		};
		const { client } = await createTestClient(server, { fetch: recording });
		const { session } = await signIn(server, client, alice.did);
		server.behaviour.refreshFailure = 'status_503';
		server.behaviour.invalidTokenOnce = true;

		await expect(session.handle('/xrpc/com.atproto.server.getSession')).rejects.toBeInstanceOf(
			OAuthTransientError,
		);
		// its body was cancelled, not left to pin a keep-alive connection
		expect(refused).toHaveLength(1);
		expect(refused[0]!.bodyUsed).toBe(true);
	});

	for (const failure of ['status_503', 'lock_timeout'] as const) {
		it(`goes on with a token that has not expired when its proactive refresh meets ${failure}`, async () => {
			let busy = false;
			const inner = createMemoryLock();
			const requestLock: LockFunction = (name, fn) => {
				if (busy) throw new LockTimeoutError(name, 1);
				return inner(name, fn);
			};
			const { client, sessions } = await createTestClient(server, { requestLock });
			const { session: held } = await signIn(server, client, alice.did);
			const before = sessions.map.get(alice.did);
			const events: unknown[] = [];
			client.addEventListener((event) => events.push(event));
			// inside the refresh margin: 30 s left
			clock.advance(held.getTokenInfo().expiresAt!.getTime() - clock.now() - 30_000);
			if (failure === 'status_503') server.behaviour.refreshFailure = 'status_503';
			else busy = true;

			// restored and called, the current token is used while it lasts
			const restored = await client.restore(alice.did);
			expect((await getSession(restored)).data.did).toBe(alice.did);
			expect((await getSession(held)).data.did).toBe(alice.did);
			expect(sessions.map.get(alice.did)).toEqual(before);
			// a refresh asked for still says it failed
			await expect(held.refresh()).rejects.toMatchObject({ transient: true });
			await expect(client.restore(alice.did, { refresh: true })).rejects.toMatchObject({ transient: true });

			// once it has expired, the failure is thrown
			clock.advance(30_000);
			await expect(client.restore(alice.did)).rejects.toMatchObject({ transient: true });
			await expect(held.handle('/xrpc/com.atproto.server.getSession')).rejects.toMatchObject({
				transient: true,
			});
			expect(sessions.map.get(alice.did)).toEqual(before);
			expect(events).toEqual([]);
		});
	}

	it('tries a refresh before expiry that failed transiently again only 30 s later, using the token meanwhile', async () => {
		const { client } = await createTestClient(server);
		const { session: held } = await signIn(server, client, alice.did);
		// inside the refresh margin, with 50 s left
		clock.advance(held.getTokenInfo().expiresAt!.getTime() - clock.now() - 50_000);
		server.behaviour.refreshFailure = 'status_503';
		const attempts = server.stats.refreshAttempts;

		// the first call meets the outage; the calls after it do not wait on it again
		expect((await getSession(held)).data.did).toBe(alice.did);
		expect(server.stats.refreshAttempts).toBe(attempts + 1);
		for (let i = 0; i < 3; i++) {
			expect((await getSession(held)).data.did).toBe(alice.did);
			expect((await getSession(await client.restore(alice.did))).data.did).toBe(alice.did);
		}
		expect(server.stats.refreshAttempts).toBe(attempts + 1);
		// a refresh asked for is not held back
		await expect(held.refresh()).rejects.toMatchObject({ transient: true });
		expect(server.stats.refreshAttempts).toBe(attempts + 2);

		// 30 s on, the server is back: the next call refreshes
		clock.advance(30_000);
		server.behaviour.refreshFailure = undefined;
		expect((await getSession(held)).data.did).toBe(alice.did);
		expect(server.stats.token.refresh_token).toBe(1);
	});

	for (const [label, answer, type] of [
		[
			'an OAuth error that keeps the session (invalid_client)',
			() => Response.json({ error: 'invalid_client' }, { status: 401 }),
			OAuthResponseError,
		],
		[
			'an answer it cannot read',
			() => new Response('<html>oops</html>', { headers: { 'content-type': 'text/html' } }),
			InvalidResponseError,
		],
	] as const) {
		it(`goes on with a token that has not expired when its refresh before expiry meets ${label}`, async () => {
			let refusing = false;
			let refused = 0;
			const refusingFetch: typeof fetch = async (input, init) => {
				if (refusing && String(input) === `${server.issuer}/oauth/token`) {
					refused++;
					return answer();
				}
				return fetch(input, init);
			};
			const { client, sessions } = await createTestClient(server, { fetch: refusingFetch });
			const { session: held } = await signIn(server, client, alice.did);
			const before = sessions.map.get(alice.did);
			const events: unknown[] = [];
			client.addEventListener((event) => events.push(event));
			// inside the refresh margin, with 50 s left
			clock.advance(held.getTokenInfo().expiresAt!.getTime() - clock.now() - 50_000);
			refusing = true;

			// the token works at the PDS: calls go on with it, and the refusal is not sent again at once
			expect((await getSession(held)).data.did).toBe(alice.did);
			const tried = refused;
			expect(tried).toBeGreaterThan(0);
			for (let i = 0; i < 3; i++) expect((await getSession(held)).data.did).toBe(alice.did);
			expect((await getSession(await client.restore(alice.did))).data.did).toBe(alice.did);
			expect(refused).toBe(tried);
			// a refresh asked for says what the server answered
			await expect(held.refresh()).rejects.toBeInstanceOf(type);
			// once the token has expired, the failure is thrown; the session is kept throughout
			clock.advance(50_000);
			await expect(held.handle('/xrpc/com.atproto.server.getSession')).rejects.toBeInstanceOf(type);
			expect(sessions.map.get(alice.did)).toEqual(before);
			expect(events).toEqual([]);
		});
	}

	it("waits out the authorization server's longer Retry-After before trying a refresh before expiry again", async () => {
		// the token endpoint turns refreshes away with 429 and Retry-After: 45 while `limited`
		let limited = true;
		let turnedAway = 0;
		const rateLimited: typeof fetch = async (input, init) => {
			if (
				limited &&
				String(input) === `${server.issuer}/oauth/token` &&
				String(init?.body).includes('refresh_token')
			) {
				turnedAway += 1;
				return new Response('{"error":"rate_limited"}', { status: 429, headers: { 'retry-after': '45' } });
			}
			return fetch(input, init);
		};
		const { client } = await createTestClient(server, { fetch: rateLimited });
		const { session: held } = await signIn(server, client, alice.did);
		// inside the refresh margin, with 50 s left
		clock.advance(held.getTokenInfo().expiresAt!.getTime() - clock.now() - 50_000);

		await expect(held.refresh()).rejects.toMatchObject({ kind: 'rate_limited', retryAfterMs: 45_000 });
		// the refresh before expiry is not sent during the server's wait either: the token is used
		expect((await getSession(held)).data.did).toBe(alice.did);
		expect(turnedAway).toBe(1);
		// 30 s on, the usual pause is over but the server's is not: the token is used, nothing sent
		clock.advance(30_000);
		expect((await getSession(held)).data.did).toBe(alice.did);
		expect(turnedAway).toBe(1);
		// 46 s on, the refresh is tried again
		clock.advance(16_000);
		limited = false;
		expect((await getSession(held)).data.did).toBe(alice.did);
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('rejects a call aborted while it waits for a refresh, which goes on and is stored', async () => {
		// the token endpoint answers a refresh only when the test lets it
		let open!: () => void;
		const gate = new Promise<void>((resolve) => (open = resolve));
		const gated: typeof fetch = async (input, init) => {
			if (String(input) === `${server.issuer}/oauth/token` && String(init?.body).includes('refresh_token')) {
				await gate;
			}
			return fetch(input, init);
		};
		const { client, sessions } = await createTestClient(server, { fetch: gated });
		const { session } = await signIn(server, client, alice.did);
		const before = sessions.map.get(alice.did)!.tokenSet.access_token;
		clock.advance(2 * 3600 * 1000);

		const controller = new AbortController();
		let settled = false;
		const call = session.handle('/xrpc/com.atproto.server.getSession', { signal: controller.signal });
		void call.then(
			() => (settled = true),
			() => (settled = true),
		);
		const reason = new Error('the caller gave up');
		controller.abort(reason);
		// the rejection comes with the abort, while the refresh is still held at the server's door
		await new Promise((resolve) => setImmediate(resolve));
		expect(settled).toBe(true);
		await expect(call).rejects.toBe(reason);

		open();
		await expect.poll(() => sessions.map.get(alice.did)!.tokenSet.access_token).not.toBe(before);
		expect(server.stats.token.refresh_token).toBe(1);
		expect((await getSession(session)).data.did).toBe(alice.did);
		expect(server.stats.token.refresh_token).toBe(1);
	});

	// a refresh token is spent once the server has the request: a late answer given up on would lose
	// the session's successor, and the next refresh would be a replay, which ends the grant
	it('waits for a token endpoint past the timeout, three times it, and stores the late answer', async () => {
		const { client, sessions } = await createTestClient(server, { timeout: 600 });
		await signIn(server, client, alice.did);
		server.behaviour.tokenDelayMs = 1000;

		await client.restore(alice.did, { refresh: true });
		expect(sessions.map.get(alice.did)?.tokenSet.refresh_token).toBe(
			server.sessions(alice.did).at(-1)?.refreshToken,
		);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });
	});

	// three times the longest timeout is past what a timer takes (it would fire at once): capped there
	it('signs in and refreshes with the longest timeout taken, 2^31 - 1 ms', async () => {
		const { client } = await createTestClient(server, { timeout: 2 ** 31 - 1 });
		const { session } = await signIn(server, client, alice.did);
		await session.refresh();
		expect(server.stats.token.refresh_token).toBe(1);
	});

	it('gives up on a slow token endpoint after three times its timeout, keeping the session', async () => {
		// the timeout holds for the sign-in's requests as well: 150 ms failed it on a loaded machine
		const { client, sessions } = await createTestClient(server, { timeout: 500 });
		await signIn(server, client, alice.did);
		const before = sessions.map.get(alice.did);
		// past three times the timeout (1.5 s), with room
		server.behaviour.tokenDelayMs = 2_500;

		const error = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(OAuthTransientError);
		expect(error).toMatchObject({ kind: 'timeout' });
		expect(sessions.map.get(alice.did)).toEqual(before);
		// the server still answers the abandoned request later: let it, before the next test registers
		// another client key, or that answer lands there as a rejected client assertion
		await expect
			.poll(() => server.stats.requests.filter((request) => request.path === '/oauth/token').at(-1)?.status, {
				timeout: 10_000,
			})
			.not.toBe(0);
	});

	it('refuses an oversized token response without reading it all', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		server.behaviour.oversizedTokenResponse = true;
		const error = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(InvalidResponseError);
		// not a verdict on the session: it is kept
		expect(sessions.map.has(alice.did)).toBe(true);
	});

	it('deletes the session when the refresh token is refused with invalid_grant', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		server.behaviour.refreshFailure = 'invalid_grant';

		const error = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(TokenRefreshError);
		expect(error).toMatchObject({ did: alice.did, reason: 'invalid_grant' });
		expect(sessions.map.has(alice.did)).toBe(false);
		await expect(client.restore(alice.did)).rejects.toBeInstanceOf(SessionNotFoundError);
	});

	it('a session object whose refresh ended the session sends its dead tokens no more, and takes up a new sign-in', async () => {
		const { client, sessions } = await createTestClient(server);
		const session = (await signIn(server, client, alice.did)).session;
		// the PDS's nonce learnt: the calls below are sent once each
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
		server.behaviour.refreshFailure = 'invalid_grant';
		await expect(session.refresh()).rejects.toBeInstanceOf(TokenRefreshError);
		expect(sessions.map.has(alice.did)).toBe(false);
		server.behaviour.refreshFailure = undefined;

		// its next call reads the store, finds nothing, and sends nothing
		let from = server.stats.requests.length;
		await expect(session.handle('/xrpc/com.atproto.server.getSession')).rejects.toBeInstanceOf(
			SessionNotFoundError,
		);
		expect(server.stats.requests.slice(from)).toEqual([]);

		// the account signs in again: the old object goes on with the new session's tokens
		await signIn(server, client, alice.did);
		from = server.stats.requests.length;
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
		expect(server.stats.requests.slice(from).map((request) => `${request.status} ${request.path}`)).toEqual([
			'200 /xrpc/com.atproto.server.getSession',
		]);
		// taken up, it is a live session again: its next calls read the store no more
		const reads = sessions.calls.length;
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
		expect(sessions.calls.slice(reads)).toEqual([]);
	});

	it("another object of the account, finding the session ended by the first's refresh, sends its dead tokens once only", async () => {
		const { client } = await createTestClient(server);
		const a = (await signIn(server, client, alice.did)).session;
		const b = await client.restore(alice.did);
		expect((await b.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
		server.behaviour.refreshFailure = 'invalid_grant';
		await expect(a.refresh()).rejects.toBeInstanceOf(TokenRefreshError);
		server.behaviour.refreshFailure = undefined;

		// b learns of it from the PDS's refusal, once; then from the store alone
		let from = server.stats.requests.length;
		await expect(b.handle('/xrpc/com.atproto.server.getSession')).rejects.toBeInstanceOf(
			SessionNotFoundError,
		);
		expect(server.stats.requests.slice(from).map((request) => request.status)).toEqual([401]);
		from = server.stats.requests.length;
		await expect(b.handle('/xrpc/com.atproto.server.getSession')).rejects.toBeInstanceOf(
			SessionNotFoundError,
		);
		expect(server.stats.requests.slice(from)).toEqual([]);
	});

	it('holds the lock from reading the session to storing the refreshed one', async () => {
		const inner = createMemoryLock();
		const events: string[] = [];
		const requestLock: LockFunction = (name, fn) =>
			inner(name, async () => {
				events.push(`lock ${name}`);
				try {
					return await fn();
				} finally {
					events.push(`unlock ${name}`);
				}
			});
		const { client, sessions } = await createTestClient(server, { requestLock });
		await signIn(server, client, alice.did);
		events.length = 0;
		sessions.calls.length = 0;
		const original = sessions.get.bind(sessions);
		sessions.get = async (key) => {
			events.push(`get ${key}`);
			return original(key);
		};
		const originalSet = sessions.set.bind(sessions);
		sessions.set = async (key, value) => {
			events.push(`set ${key}`);
			return originalSet(key, value);
		};

		await client.restore(alice.did, { refresh: true });
		// upstream @atcute/oauth-node-client 2.x's name: a rolling deploy from it shares the lock
		const name = `oauth-session-${alice.did}`;
		expect(events).toEqual([
			`get ${alice.did}`,
			`lock ${name}`,
			`get ${alice.did}`,
			`set ${alice.did}`,
			`unlock ${name}`,
		]);
	});

	it('refuses a requestLock that resolves without running its function, naming it', async () => {
		// the documented sample's body, `async requestLock(name, fn) { // ... }`, copied as it stands
		let skip = true;
		const inner = createMemoryLock();
		const requestLock: LockFunction = async (name, fn) => (skip ? (undefined as never) : inner(name, fn));
		const { client, sessions } = await createTestClient(server, { requestLock });

		// a sign-in cannot store its session: it fails, and what was issued is revoked
		await expect(signIn(server, client, alice.did)).rejects.toThrow(
			/requestLock resolved without running the function it was given \(lock "oauth-session-did:plc:/,
		);
		expect(await sessions.get(alice.did)).toBeUndefined();
		expect(server.sessions(alice.did).at(-1)?.active).toBe(false);

		// a refresh says the same, not a TypeError from inside the client
		skip = false;
		await signIn(server, client, alice.did);
		skip = true;
		const error = await client.restore(alice.did, { refresh: true }).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(TypeError);
		expect((error as Error).message).toContain('requestLock resolved without running');
		expect(await sessions.get(alice.did)).toBeDefined();
	});

	it('adopts tokens that another process stored while it waited for the lock', async () => {
		const first = await createTestClient(server);
		await signIn(server, first.client, alice.did);
		// a second client instance (another process) shares the store
		const second = await createTestClient(server, { key: first.key, sessions: first.sessions });
		const stale = await second.client.restore(alice.did);

		await first.client.restore(alice.did, { refresh: true });
		expect(server.stats.token.refresh_token).toBe(1);

		// the stale session's token was invalidated by the rotation: it adopts the stored one
		expect((await getSession(stale)).data.did).toBe(alice.did);
		expect(server.stats.token.refresh_token).toBe(1);
		// the one refusal is the PDS turning down the replaced token, which drove the adoption
		expect(server.stats.rejections.map((rejection) => rejection.error)).toEqual(['invalid_token']);
	});

	it('refreshes, rather than adopts, tokens another process stored that are stale too', async () => {
		const first = await createTestClient(server);
		await signIn(server, first.client, alice.did);
		const second = await createTestClient(server, { key: first.key, sessions: first.sessions });
		const stale = await second.client.restore(alice.did);
		await first.client.restore(alice.did, { refresh: true });
		// the tokens the first process stored expire in turn before the second uses its own
		clock.advance(2 * 3600 * 1000);

		expect((await getSession(stale)).data.did).toBe(alice.did);
		// refreshed with the stored refresh token, not adopted and sent to the PDS to be refused
		expect(server.stats.token.refresh_token).toBe(2);
		expect(server.stats.rejections).toEqual([]);
	});

	it('serialises the refreshes of two clients on one session store with the default lock', async () => {
		// two instances in one process (a web handler and a job runner) share a store, no requestLock
		const first = await createTestClient(server);
		await signIn(server, first.client, alice.did);
		const second = await createTestClient(server, { key: first.key, sessions: first.sessions });
		clock.advance(2 * 3600 * 1000);

		// both find the token stale at once: one refreshes, the other waits and adopts its tokens
		const [a, b] = await Promise.all([first.client.restore(alice.did), second.client.restore(alice.did)]);
		expect(server.stats.token.refresh_token).toBe(1);
		expect(a.getTokenInfo()).toEqual(b.getTokenInfo());
		expect((await getSession(a)).data.did).toBe(alice.did);
		expect((await getSession(b)).data.did).toBe(alice.did);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });
	});

	it('traces an adoption as one, so it is not counted as a refresh', async () => {
		const traced: Array<{ operation: string; context: object }> = [];
		const tracer: OAuthTracer = {
			trace: (operation, context, fn) => {
				traced.push({ operation, context });
				return fn();
			},
		};
		const first = await createTestClient(server, { tracer });
		await signIn(server, first.client, alice.did);
		const second = await createTestClient(server, { key: first.key, sessions: first.sessions, tracer });
		const stale = await second.client.restore(alice.did);
		await first.client.restore(alice.did, { refresh: true });
		await getSession(stale);

		const refreshes = traced.filter((entry) => entry.operation === 'refresh').map((entry) => entry.context);
		expect(server.stats.token.refresh_token).toBe(1);
		expect(refreshes).toEqual([
			{ sub: alice.did, clientId: CLIENT_ID, issuer: server.issuer },
			{ sub: alice.did, clientId: CLIENT_ID, issuer: server.issuer, adopted: true },
		]);
	});

	it('rejects a malformed path, traced or not: a subscriber does not make handle() throw', async () => {
		const tracer: OAuthTracer = { trace: (_operation, _context, fn) => fn() };
		for (const options of [{}, { tracer }]) {
			const { client } = await createTestClient(server, options);
			const { session } = await signIn(server, client, alice.did);
			for (const call of [() => session.handle('//[bad'), () => session.handle('/xrpc/x', null as never)]) {
				let returned: unknown;
				expect(() => {
					returned = call();
				}).not.toThrow();
				await expect(returned).rejects.toThrow(TypeError);
			}
			await client.revoke(alice.did);
		}
	});

	it('signs out: revokes the refresh token, deletes the session, and the old tokens stop working', async () => {
		const { client, sessions } = await createTestClient(server);
		const { session } = await signIn(server, client, alice.did);
		const stored = sessions.map.get(alice.did)!;

		await session.signOut();
		expect(sessions.map.has(alice.did)).toBe(false);
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: false });

		// put the old tokens back: the PDS refuses the access token, the AS the refresh token, and
		// the call fails with the typed, definitive error (and the session is gone again)
		sessions.map.set(alice.did, stored);
		const stale = await client.restore(alice.did);
		const error = await stale.handle('/xrpc/com.atproto.server.getSession').catch((err: unknown) => err);
		expect(error).toBeInstanceOf(TokenRefreshError);
		expect(error).toMatchObject({ reason: 'invalid_grant' });
		// the identity check before the refresh (DID document, handle, metadata) is left out here
		const statuses = server.stats.requests
			.filter(
				(request) =>
					request.server !== 'plc' &&
					!request.path.startsWith('/.well-known/') &&
					request.path !== '/xrpc/com.atproto.identity.resolveHandle',
			)
			.slice(-2)
			.map((request) => `${request.path} ${request.status}`);
		expect(statuses).toEqual(['/xrpc/com.atproto.server.getSession 401', '/oauth/token 400']);
		expect(sessions.map.has(alice.did)).toBe(false);

		// signing out twice is fine
		await client.revoke(alice.did);
		await client.revoke(alice.did);
	});

	it('signs out a session the store can never read, and keeps one the store cannot read for now', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		const events: unknown[] = [];
		client.addEventListener((event) => events.push(event));
		const read = sessions.get.bind(sessions);
		let failure: Error | undefined;
		sessions.get = async (key) => {
			if (failure !== undefined) throw failure;
			return read(key);
		};

		// a store that is down: signing out fails and keeps the session, to be tried again
		failure = Object.assign(new Error('store unreachable'), { transient: true });
		await expect(client.revoke(alice.did)).rejects.toBe(failure);
		expect(sessions.map.has(alice.did)).toBe(true);

		// an entry the store can never read (an encrypted one whose key was retired): deleted,
		// with nothing revoked at the server, since no token could be read
		failure = Object.assign(new Error('cannot decrypt'), { transient: false });
		const revocations = server.stats.requests.filter((request) => request.path === '/oauth/revoke').length;
		await client.revoke(alice.did);
		expect(sessions.map.has(alice.did)).toBe(false);
		expect(server.stats.requests.filter((request) => request.path === '/oauth/revoke').length).toBe(
			revocations,
		);
		await vi.waitFor(() =>
			expect(events).toContainEqual({
				type: 'deleted',
				sub: alice.did,
				cause: 'revoked',
				revokedAtServer: false,
			}),
		);
	});

	it('a signed-out session object sends nothing more, even when the server could not revoke', async () => {
		const { client, sessions } = await createTestClient(server);
		const { session } = await signIn(server, client, alice.did);
		server.behaviour.revokeFailure = 'status_503';
		await session.signOut();
		expect(sessions.map.has(alice.did)).toBe(false);
		const sent = server.stats.requests.length;
		// its access token is still good at the PDS (the revocation failed): it must not be used
		for (const call of [
			() => session.handle('/xrpc/com.atproto.server.getSession'),
			() => session.refresh(),
		]) {
			await expect(call()).rejects.toBeInstanceOf(SessionNotFoundError);
		}
		expect(server.stats.requests.length).toBe(sent);
	});

	for (const nextIsStale of [false, true]) {
		it(`a call under way on an object signed out is not retried with the account's next sign-in (${nextIsStale ? 'stale' : 'fresh'})`, async () => {
			// a fetch that holds the next PDS call back until released (a slow network)
			let hold: { arrived: () => void; go: Promise<void> } | undefined;
			const slowFetch: typeof fetch = async (input, init) => {
				const held = hold;
				if (held !== undefined && String(input instanceof Request ? input.url : input).includes('/xrpc/')) {
					hold = undefined;
					held.arrived();
					await held.go;
				}
				return fetch(input, init);
			};
			const { client, sessions } = await createTestClient(server, { fetch: slowFetch });
			const { session: first } = await signIn(server, client, alice.did);
			// the PDS's DPoP nonce learnt: the held call is sent once
			expect((await first.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
			let arrive!: () => void;
			let release!: () => void;
			const arrived = new Promise<void>((resolve) => (arrive = resolve));
			hold = { arrived: arrive, go: new Promise<void>((resolve) => (release = resolve)) };
			const call = first.handle('/xrpc/com.atproto.server.getSession');
			await arrived;

			// the user signs out through this very object, then the account signs in again
			await first.signOut();
			await signIn(server, client, alice.did);
			// a stale one would be refreshed, and its refresh token spent, by a refresh of this object
			if (nextIsStale) sessions.map.get(alice.did)!.tokenSet.expires_at = clock.now() - 1_000;
			const next = structuredClone(sessions.map.get(alice.did)!.tokenSet);

			// the call reaches the PDS with its revoked token, and is refused
			server.reset();
			release();
			await expect(call).rejects.toBeInstanceOf(SessionNotFoundError);
			// nothing more was sent: neither a refresh nor the next sign-in's token, which is not this
			// object's to take up
			expect(server.stats.requests.map(({ server, path, status }) => [server, path, status])).toEqual([
				['pds', '/xrpc/com.atproto.server.getSession', 401],
			]);
			expect(sessions.map.get(alice.did)!.tokenSet).toEqual(next);
		});
	}

	it("signing out a session object of an older grant revokes that grant's tokens too", async () => {
		const { client, sessions } = await createTestClient(server);
		const { session: older } = await signIn(server, client, alice.did);
		// the account signs in again while the first grant's server does not answer its revocation:
		// the store holds the new grant, the old object the first, still live
		server.behaviour.revokeFailure = 'status_503';
		await signIn(server, client, alice.did);
		server.behaviour.revokeFailure = undefined;
		// the server's grants of this account across tests: the last two are this test's
		const lastTwo = () =>
			server
				.sessions(alice.did)
				.slice(-2)
				.map((grant) => grant.active);
		expect(lastTwo()).toEqual([true, true]);
		const deleted: unknown[] = [];
		client.addEventListener((event) => {
			if (event.type === 'deleted') deleted.push(event);
		});

		await older.signOut();
		// both grants are over at the server, the stored one reported in the one event
		expect(lastTwo()).toEqual([false, false]);
		expect(sessions.map.has(alice.did)).toBe(false);
		expect(deleted).toEqual([
			{ type: 'deleted', sub: alice.did, cause: 'signed_out', revokedAtServer: true },
		]);

		// an object whose session was signed out elsewhere still revokes what it holds
		const { session: again } = await signIn(server, client, alice.did);
		await client.revoke(alice.did);
		const revokes = server.stats.revoke;
		await again.signOut();
		expect(server.stats.revoke).toBe(revokes + 2);
		expect(deleted).toHaveLength(2);
	});

	it('takes null from a store for no session, as undefined', async () => {
		const { MapStore } = await import('./test-utils/map-store.ts');
		const sessions = new (class extends MapStore<never> {
			override async get(key: string) {
				return ((await super.get(key)) ?? null) as never;
			}
		})();
		const { client } = await createTestClient(server, { sessions });
		const events: unknown[] = [];
		client.addEventListener((event) => events.push(event));
		await expect(client.restore(alice.did)).rejects.toBeInstanceOf(SessionNotFoundError);
		await client.revoke(alice.did);
		await client.revoke(alice.did);
		expect(events).toEqual([]);

		const { session } = await signIn(server, client, alice.did);
		await client.revoke(alice.did);
		await expect(session.refresh()).rejects.toBeInstanceOf(SessionNotFoundError);
	});

	it('deletes the session locally even when the revocation fails', async () => {
		const { client, sessions } = await createTestClient(server);
		await signIn(server, client, alice.did);
		server.behaviour.revokeFailure = 'status_503';
		await client.revoke(alice.did);
		expect(sessions.map.has(alice.did)).toBe(false);
	});

	it('signs out within the 5-second revocation limit when the server’s metadata is slow', async () => {
		const { client, sessions, key } = await createTestClient(server);
		await signIn(server, client, alice.did);
		// another process on the same store, which has not fetched the server's metadata yet
		const { client: other } = await createTestClient(server, { key, sessions, timeout: 20_000 });
		server.behaviour.metadataDelayMs = 8000;

		const started = performance.now();
		await other.revoke(alice.did);
		expect(performance.now() - started).toBeLessThan(7000);
		expect(sessions.map.has(alice.did)).toBe(false);
	}, 15_000);

	it('ends a session whose key left the keyset with a distinct error', async () => {
		const first = await createTestClient(server);
		await signIn(server, first.client, alice.did);
		const rotated = await createTestClient(server, {
			keyset: [await generatePrivateKey('next')],
			sessions: first.sessions,
		});

		const error = await rotated.client.restore(alice.did).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(AuthMethodUnsatisfiableError);
		expect(error).toMatchObject({ did: alice.did, kid: 'main' });
		expect(first.sessions.map.has(alice.did)).toBe(false);
	});

	it('keeps working across DPoP nonce rotations', async () => {
		const { client } = await createTestClient(server);
		const { session } = await signIn(server, client, alice.did);
		for (let i = 0; i < 3; i++) {
			server.rotateNonce();
			expect((await getSession(session)).ok).toBe(true);
		}
		await client.restore(alice.did, { refresh: true });
		server.assertNoRejections();
	});

	it('checks permissions against the granted scope', async () => {
		const { client } = await createTestClient(server);
		const { session } = await signIn(server, client, alice.did);
		// transition:generic grants repo writes and blobs, but not account email
		expect(session.allows({ type: 'repo', collection: 'app.bsky.feed.post', action: 'create' })).toBe(true);
		expect(session.allows({ type: 'blob', mime: 'image/png' })).toBe(true);
		expect(session.allows({ type: 'account', attr: 'email', action: 'read' })).toBe(false);

		// a narrower grant: atproto alone allows no write
		const narrow = await client.authorize({
			target: { type: 'account', identifier: 'alice.test' },
			scope: 'atproto',
		});
		const { session: narrowSession } = await client.callback(
			await server.authorize(narrow.url, { did: alice.did }),
		);
		expect(narrowSession.scope).toBe('atproto');
		expect(narrowSession.allows({ type: 'repo', collection: 'app.bsky.feed.post', action: 'create' })).toBe(
			false,
		);
	});

	it('tells what its tokens are without giving them away', async () => {
		const { client } = await createTestClient(server);
		const { session } = await signIn(server, client, alice.did);
		const info = session.getTokenInfo();
		expect(info).toMatchObject({ iss: server.issuer, sub: alice.did, aud: server.pdsUrl });
		expect(info.expiresAt).toBeInstanceOf(Date);
		expect(JSON.stringify(info)).not.toMatch(/access_token|refresh_token/);
	});
});
