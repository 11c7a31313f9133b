// a lock that finds its hold lost aborts the signal it gave the holder: a refresh that has not sent
// its refresh token yet does not send it, since the lock's next holder may be sending the same one,
// and a refresh token the server sees twice ends the grant
import {
	type DidDocumentResolver,
	LocalActorResolver,
	PlcDidDocumentResolver,
	XrpcHandleResolver,
} from '@atcute/identity-resolver';
import type { Did } from '@atcute/lexicons';
import { type CreateSigner, createWebCryptoSigner } from '@atcute/oauth-keys';
import { describe, expect, it } from 'vitest';

import { LockUnavailableError, SessionNotFoundError, TokenRefreshError } from './errors.ts';
import type { LockFunction } from './lock.ts';
import type { OAuthSessionEvent } from './session-events.ts';
import { leasingLock } from './test-utils/leasing-lock.ts';
import {
	CLIENT_ID,
	createTestClient,
	signIn,
	type TestClock,
	type TestOAuthServer,
	useTestServer,
} from './test-utils/setup.ts';
import type { OAuthTracer, RefreshTraceContext } from './tracer.ts';

/** a resolver whose DID document lookups, made by a refresh before its token request, run `before` first. */
const hookedResolver = (server: TestOAuthServer, before: () => Promise<void>): LocalActorResolver => {
	const documents = new PlcDidDocumentResolver({ apiUrl: server.plcUrl });
	const didDocumentResolver: DidDocumentResolver = {
		resolve: async (did, options) => {
			await before();
			return documents.resolve(did as `did:plc:${string}`, options);
		},
	};
	return new LocalActorResolver({
		handleResolver: new XrpcHandleResolver({ serviceUrl: server.pdsUrl }),
		didDocumentResolver,
	});
};

/** a tracer that keeps the context of every refresh. */
const refreshTraces = () => {
	const refreshes: RefreshTraceContext[] = [];
	const tracer: OAuthTracer = {
		trace(operation, context, fn) {
			if (operation === 'refresh') refreshes.push(context as RefreshTraceContext);
			return fn();
		},
	};
	return { refreshes, tracer };
};

describe('a refresh whose lock is lost', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	let clock: TestClock;

	useTestServer((env) => {
		({ server, alice, clock } = env);
	});

	/** the grants of alice made after the first `earlier` that are still live at the server. */
	const liveGrantsSince = (earlier: number) =>
		server
			.sessions(alice.did)
			.slice(earlier)
			.filter((grant) => grant.active);

	/**
	 * a client whose refresh loses its lock while its token request runs; `meanwhile` runs then,
	 * before the answer is read (or, with `beforeSending`, before the request goes). another client
	 * (`other`, the next holder) shares its store.
	 */
	const losingDuringRequest = async (
		options: { createSigner?: CreateSigner; tracer?: OAuthTracer; beforeSending?: boolean } = {},
	) => {
		const { beforeSending = false, ...clientOptions } = options;
		const { lock, leases } = leasingLock();
		let meanwhile: (() => Promise<void>) | undefined;
		const lose = async () => {
			const run = meanwhile;
			meanwhile = undefined;
			if (run === undefined) return;
			leases.at(-1)!.abort(new Error('lease ran out'));
			await run();
		};
		const a = await createTestClient(server, {
			clock,
			requestLock: lock,
			...clientOptions,
			fetch: async (input, init) => {
				const token = String(input instanceof Request ? input.url : input).endsWith('/oauth/token');
				if (token && beforeSending) await lose();
				const response = await fetch(input, init);
				if (token && !beforeSending) await lose();
				return response;
			},
		});
		const other = await createTestClient(server, { clock, key: a.key, sessions: a.sessions });
		return {
			a,
			other,
			whileAnswered: (run: () => Promise<void>) => {
				meanwhile = run;
			},
		};
	};

	it('sends no refresh token once its lock is lost, and adopts the tokens the next holder stored', async () => {
		const { lock, leases } = leasingLock();
		let during: (() => Promise<void>) | undefined;
		const { refreshes, tracer } = refreshTraces();
		const a = await createTestClient(server, {
			clock,
			tracer,
			requestLock: lock,
			actorResolver: hookedResolver(server, async () => {
				const run = during;
				during = undefined;
				await run?.();
			}),
		});
		// the other process: the same app on the same store, which took the lock once it lapsed
		const b = await createTestClient(server, { clock, key: a.key, sessions: a.sessions });
		await signIn(server, a.client, alice.did);
		const events: OAuthSessionEvent[] = [];
		a.client.addEventListener((event) => events.push(event));
		clock.advance(2 * 3600 * 1000);
		server.stats.token.refresh_token = 0;
		// the sign-in's own holding
		leases.length = 0;
		during = async () => {
			leases[0]!.abort(new Error('lease ran out'));
			await b.client.restore(alice.did);
		};

		const session = await a.client.restore(alice.did);
		// one refresh token went out, the other process's: the server saw none twice
		expect(server.stats.token.refresh_token).toBe(1);
		expect(leases).toHaveLength(2);
		expect((await session.getTokenInfo()).expiresAt?.getTime()).toBe(
			a.sessions.map.get(alice.did)?.tokenSet.expires_at,
		);
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
		expect(events.filter((event) => event.type === 'deleted')).toEqual([]);
		// one refresh, traced once: it found its lock lost, then adopted the other's tokens
		expect(refreshes).toEqual([
			{ sub: alice.did, clientId: CLIENT_ID, issuer: server.issuer, lockLost: true, adopted: true },
		]);
	});

	it('fails as LockUnavailableError, nothing sent and the session kept, when the lock is lost again', async () => {
		const { lock, leases } = leasingLock();
		const a = await createTestClient(server, {
			clock,
			requestLock: lock,
			actorResolver: hookedResolver(server, async () => {
				leases.at(-1)?.abort(new Error('lease ran out'));
			}),
		});
		await signIn(server, a.client, alice.did);
		const before = structuredClone(a.sessions.map.get(alice.did));
		clock.advance(2 * 3600 * 1000);
		server.stats.token.refresh_token = 0;
		// the sign-in's own holding
		leases.length = 0;

		const error = await a.client.restore(alice.did).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(LockUnavailableError);
		expect(error).toMatchObject({
			code: 'ERR_LOCK_UNAVAILABLE',
			transient: true,
			lockName: `oauth-session-${alice.did}`,
			cause: new Error('lease ran out'),
		});
		expect((error as Error).message).toMatch(
			/lost before the refresh token of did:\S+ was sent: nothing was sent/,
		);
		expect(leases).toHaveLength(2);
		expect(server.stats.token.refresh_token).toBe(0);
		expect(a.sessions.map.get(alice.did)).toEqual(before);
	});

	it('keeps the tokens when the loss is found after the refresh token went out', async () => {
		const { lock, leases } = leasingLock();
		const a = await createTestClient(server, {
			clock,
			requestLock: lock,
			fetch: async (input, init) => {
				const url = String(input instanceof Request ? input.url : input);
				if (url.endsWith('/oauth/token')) leases.at(-1)?.abort(new Error('lease ran out'));
				return fetch(input, init);
			},
		});
		await signIn(server, a.client, alice.did);
		const spent = a.sessions.map.get(alice.did)?.tokenSet.refresh_token;
		clock.advance(2 * 3600 * 1000);
		server.stats.token.refresh_token = 0;
		// the sign-in's own holding
		leases.length = 0;

		const session = await a.client.restore(alice.did);
		expect(server.stats.token.refresh_token).toBe(1);
		expect(leases).toHaveLength(1);
		expect(a.sessions.map.get(alice.did)?.tokenSet.refresh_token).not.toBe(spent);
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
	});

	it('keeps a sign-in stored while the lock was lost during the token request, and revokes its own tokens', async () => {
		const { refreshes, tracer } = refreshTraces();
		const { a, other, whileAnswered } = await losingDuringRequest({ tracer });
		const earlier = server.sessions(alice.did).length;
		await signIn(server, a.client, alice.did);
		const events: OAuthSessionEvent[] = [];
		a.client.addEventListener((event) => events.push(event));
		clock.advance(2 * 3600 * 1000);
		let theirs: string | undefined;
		// the refresh token went out, and was spent; before its answer is read the lock is lost and
		// the user signs in again elsewhere, which revokes the grant it came from
		whileAnswered(async () => {
			await signIn(server, other.client, alice.did);
			theirs = a.sessions.map.get(alice.did)?.tokenSet.refresh_token;
		});

		const session = await a.client.restore(alice.did);
		// the sign-in's session is kept, and is the one handed back: it works, and so does its refresh
		expect(a.sessions.map.get(alice.did)?.tokenSet.refresh_token).toBe(theirs);
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
		expect(refreshes).toEqual([
			{
				sub: alice.did,
				clientId: CLIENT_ID,
				issuer: server.issuer,
				lockLost: true,
				supersededWhileLockLost: true,
			},
		]);
		expect(events).toEqual([]);
		clock.advance(2 * 3600 * 1000);
		await expect(other.client.restore(alice.did)).resolves.toBeDefined();
		// of this test's grants only the sign-in's is live: none left behind
		expect(liveGrantsSince(earlier)).toHaveLength(1);
	});

	it('does not bring back a session signed out while the lock was lost during the token request', async () => {
		const { a, other, whileAnswered } = await losingDuringRequest();
		const earlier = server.sessions(alice.did).length;
		await signIn(server, a.client, alice.did);
		clock.advance(2 * 3600 * 1000);
		whileAnswered(async () => {
			await other.client.revoke(alice.did);
		});

		const error = await a.client.restore(alice.did).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(SessionNotFoundError);
		expect(a.sessions.map.has(alice.did)).toBe(false);
		// the tokens the refresh brought are revoked too: the user stays signed out at the server
		expect(liveGrantsSince(earlier)).toHaveLength(0);
	});

	it('stores the answer as before when the store cannot be read after the lock was lost', async () => {
		const { a, whileAnswered } = await losingDuringRequest();
		await signIn(server, a.client, alice.did);
		const spent = a.sessions.map.get(alice.did)?.tokenSet.refresh_token;
		clock.advance(2 * 3600 * 1000);
		// the store's reads fail for a while: it cannot say whose session it holds
		const get = a.sessions.get.bind(a.sessions);
		whileAnswered(async () => {
			a.sessions.get = async () => {
				throw Object.assign(new Error('store unreachable'), { transient: true });
			};
			setTimeout(() => {
				a.sessions.get = get;
			}, 2_000);
		});

		const session = await a.client.restore(alice.did);
		const stored = a.sessions.map.get(alice.did)?.tokenSet.refresh_token;
		expect(stored).not.toBe(spent);
		expect(stored).toBe(server.sessions(alice.did).at(-1)?.refreshToken);
		a.sessions.get = get;
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
	});

	it("keeps an entry it cannot read for good (another process's key), revoking its own tokens", async () => {
		const { a, other, whileAnswered } = await losingDuringRequest();
		await signIn(server, a.client, alice.did);
		clock.advance(2 * 3600 * 1000);
		const get = a.sessions.get.bind(a.sessions);
		const unreadable = Object.assign(new Error('no key for this entry'), { transient: false });
		whileAnswered(async () => {
			await signIn(server, other.client, alice.did);
			// this process cannot read what the other wrote (a key it lacks, a newer format)
			a.sessions.get = async () => {
				a.sessions.get = get;
				throw unreadable;
			};
		});

		const error = await a.client.restore(alice.did).catch((err: unknown) => err);
		// ended for this process, which can read nothing of it: its new tokens revoked, nothing written
		expect(error).toBeInstanceOf(TokenRefreshError);
		expect(error).toMatchObject({ reason: 'store_failed', cause: unreadable });
		// the other's entry is kept, and its grant is live
		expect(a.sessions.map.get(alice.did)?.tokenSet.refresh_token).toBe(
			server.sessions(alice.did).at(-1)?.refreshToken,
		);
		expect(server.sessions(alice.did).at(-1)?.active).toBe(true);
		expect((await other.client.restore(alice.did)).did).toBe(alice.did);
	});

	it('reads through a passing failure before it decides, as a sign-in does', async () => {
		const { a, other, whileAnswered } = await losingDuringRequest();
		await signIn(server, a.client, alice.did);
		clock.advance(2 * 3600 * 1000);
		const get = a.sessions.get.bind(a.sessions);
		whileAnswered(async () => {
			await signIn(server, other.client, alice.did);
			a.sessions.get = async () => {
				a.sessions.get = get;
				throw Object.assign(new Error('store busy'), { transient: true });
			};
		});

		const session = await a.client.restore(alice.did);
		// the sign-in's session stands, and is the one handed back
		expect(a.sessions.map.get(alice.did)?.tokenSet.refresh_token).toBe(
			server.sessions(alice.did).at(-1)?.refreshToken,
		);
		expect(server.sessions(alice.did).at(-1)?.active).toBe(true);
		expect((await session.handle('/xrpc/com.atproto.server.getSession')).status).toBe(200);
	});

	it('drops from memory the DPoP key of the session a sign-in elsewhere replaced', async () => {
		const imports = new Map<string, number>();
		const createSigner: CreateSigner = Object.assign(createWebCryptoSigner, {
			fromJwk: (params: { d?: string }) => {
				imports.set(params.d!, (imports.get(params.d!) ?? 0) + 1);
				return undefined;
			},
		});
		const { a, other, whileAnswered } = await losingDuringRequest({ createSigner });
		await signIn(server, a.client, alice.did);
		const saved = structuredClone(a.sessions.map.get(alice.did)!);
		await a.client.restore(alice.did, { refresh: false });
		const before = imports.get(saved.dpopKey.d) ?? 0;
		clock.advance(2 * 3600 * 1000);
		whileAnswered(async () => {
			await signIn(server, other.client, alice.did);
		});

		await a.client.restore(alice.did);
		// the ended session's key is imported again if it ever comes back: it was not kept
		a.sessions.map.set(alice.did, saved);
		await a.client.restore(alice.did, { refresh: false });
		expect(imports.get(saved.dpopKey.d)).toBe(before + 1);
	});

	it('neither takes up nor deletes a session of the same grant after its own token, sent under a lost lock, was refused as replayed', async () => {
		const { a, other, whileAnswered: whileSending } = await losingDuringRequest({ beforeSending: true });
		await signIn(server, a.client, alice.did);
		const events: OAuthSessionEvent[] = [];
		a.client.addEventListener((event) => events.push(event));
		clock.advance(2 * 3600 * 1000);
		// the lock is lost with the token on its way, and the next holder refreshes with the same
		// token first: the server, seeing it again, ends the grant, the other's new tokens included
		whileSending(async () => {
			await other.client.restore(alice.did);
		});

		const error = await a.client.restore(alice.did).catch((err: unknown) => err);
		expect(error).toMatchObject({ reason: 'invalid_grant' });
		// not reported working: the other's session is of the same grant, which the server ended.
		// nor deleted (this one cannot tell a replay from another refusal): its own next refresh ends it
		expect(server.sessions(alice.did).at(-1)?.active).toBe(false);
		expect(a.sessions.map.get(alice.did)?.tokenSet.refresh_token).toBe(
			server.sessions(alice.did).at(-1)?.refreshToken,
		);
		expect(events).toEqual([]);
		await expect(other.client.restore(alice.did, { refresh: true })).rejects.toMatchObject({
			reason: 'invalid_grant',
		});
		expect(a.sessions.map.has(alice.did)).toBe(false);
	});

	it('neither takes up nor deletes a session of the same grant a holder whose lock was lost wrote meanwhile', async () => {
		const { a, whileAnswered } = await losingDuringRequest();
		let atToken: (() => void) | undefined;
		const reached = new Promise<void>((resolve) => {
			atToken = resolve;
		});
		// the next holder, whose own lock holds: its token request goes once the first one's answer,
		// of the same refresh token, is stored
		let spent: string | undefined;
		const other = await createTestClient(server, {
			clock,
			key: a.key,
			sessions: a.sessions,
			fetch: async (input, init) => {
				if (String(input instanceof Request ? input.url : input).endsWith('/oauth/token')) {
					atToken?.();
					await expect
						.poll(() => a.sessions.map.get(alice.did)?.tokenSet.refresh_token, { interval: 5 })
						.not.toBe(spent);
				}
				return fetch(input, init);
			},
		});
		await signIn(server, a.client, alice.did);
		spent = a.sessions.map.get(alice.did)?.tokenSet.refresh_token;
		const events: OAuthSessionEvent[] = [];
		other.client.addEventListener((event) => events.push(event));
		clock.advance(2 * 3600 * 1000);
		let theirs: Promise<unknown> | undefined;
		whileAnswered(async () => {
			theirs = other.client.restore(alice.did).catch((err: unknown) => err);
			await reached;
		});

		// the first holder's answer is stored over the session it read, which still held its token
		await a.client.restore(alice.did);
		// the other's token, the same one, reaches the server second: refused as replayed, and the
		// grant ended, the stored tokens included. they are not taken up as if they worked
		expect(await theirs).toMatchObject({ reason: 'invalid_grant' });
		expect(server.sessions(alice.did).at(-1)?.active).toBe(false);
		// left to its own next refresh, which ends it
		expect(a.sessions.map.get(alice.did)?.tokenSet.refresh_token).not.toBe(spent);
		expect(events).toEqual([]);
	});

	it('deletes no entry it cannot read for good when its refresh is refused after the lock was lost', async () => {
		const { a, other, whileAnswered: whileSending } = await losingDuringRequest({ beforeSending: true });
		await signIn(server, a.client, alice.did);
		clock.advance(2 * 3600 * 1000);
		const get = a.sessions.get.bind(a.sessions);
		// the lock is lost, and the user signs in again elsewhere (ending the grant this refresh
		// sends a token of), under a key this process lacks: it cannot read what is stored now
		whileSending(async () => {
			await signIn(server, other.client, alice.did);
			a.sessions.get = async () => {
				throw Object.assign(new Error('no key for this entry'), { transient: false });
			};
		});

		const error = await a.client.restore(alice.did).catch((err: unknown) => err);
		a.sessions.get = get;
		expect(error).toMatchObject({ reason: 'invalid_grant' });
		// the other's sign-in is kept, and its grant is live
		expect(a.sessions.map.get(alice.did)?.tokenSet.refresh_token).toBe(
			server.sessions(alice.did).at(-1)?.refreshToken,
		);
		expect(server.sessions(alice.did).at(-1)?.active).toBe(true);
	});

	it('hands the lock a function that declares no parameter, as a lock may pick its style by fn.length', async () => {
		// async-lock's acquire calls a one-parameter function with a `done` callback, and waits for it
		const lengths: number[] = [];
		const requestLock: LockFunction = async (_name, fn) => {
			lengths.push(fn.length);
			return fn();
		};
		const { client } = await createTestClient(server, { clock, requestLock });
		await signIn(server, client, alice.did);
		await client.restore(alice.did, { refresh: true });
		expect(lengths).toEqual([0, 0]);
	});
});
