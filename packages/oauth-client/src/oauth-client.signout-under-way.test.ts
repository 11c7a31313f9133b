import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { SessionNotFoundError } from './errors.ts';
import type { StoredSession } from './stored-types.ts';
import { countingSigner } from './test-utils/counting-signer.ts';
import { CREATE_RECORD, createRecord, streamOf } from './test-utils/create-record.ts';
import { gate, holdingFetch } from './test-utils/holding-fetch.ts';
import {
	signIn,
	type TestClock,
	type TestOAuthServer,
	type TestServerEnv,
	useTestServer,
} from './test-utils/setup.ts';
import type { OAuthTracer } from './tracer.ts';

/**
 * `account` signed in, and its session restored by a new process (which knows no PDS nonce yet)
 * whose fetch can hold a request (`held`).
 */
const restoredInNewProcess = async (
	server: TestOAuthServer,
	account: { did: Did },
	createTestClient: TestServerEnv['createTestClient'],
) => {
	const first = await createTestClient(server);
	await signIn(server, first.client, account.did);
	const held = holdingFetch();
	const { client } = await createTestClient(server, {
		sessions: first.sessions,
		key: first.key,
		fetch: held.fetch,
	});
	return { held, session: await client.restore(account.did) };
};

describe('work under way across a sign-out', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	let clock: TestClock;
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, clock, createTestClient } = env));

	it('a stream whose nonce probe is under way at signOut() is not sent once signOut() resolved', async () => {
		// a new process: no PDS nonce known, so a stream is preceded by a probe
		const { held, session } = await restoredInNewProcess(server, alice, createTestClient);
		const probe = held.hold('/xrpc/com.atproto.server.getSession');
		const call = createRecord(session, streamOf('{}'));
		await probe.arrived;

		// the server cannot be reached to revoke: the tokens stay good there
		server.behaviour.revokeFailure = 'status_503';
		await session.signOut();
		const from = server.stats.requests.length;
		probe.release();
		await expect(call).rejects.toBeInstanceOf(SessionNotFoundError);
		// the probe was under way; the stream, a write, was not
		expect(server.stats.requests.slice(from).filter((request) => request.path === CREATE_RECORD)).toEqual([]);
	});

	it('a refresh under way at signOut() is not taken up, nor its tokens sent, once signOut() resolved', async () => {
		let refreshGate: ReturnType<typeof gate> | undefined;
		// an instrumentation hook that is slow to hand a refresh's outcome back (it flushes a span)
		const tracer: OAuthTracer = {
			trace: (async (operation: string, _context: unknown, fn: () => Promise<unknown>) => {
				const result = await fn();
				const g = refreshGate;
				if (operation === 'refresh' && g !== undefined) {
					refreshGate = undefined;
					g.arrive();
					await g.go;
				}
				return result;
			}) as OAuthTracer['trace'],
		};
		const { client, sessions } = await createTestClient(server, { tracer });
		await signIn(server, client, alice.did);
		// the object holds a token about to expire: its next call refreshes first
		sessions.map.get(alice.did)!.tokenSet.expires_at = clock.now() - 1_000;
		const session = await client.restore(alice.did, { refresh: false });
		const g = gate();
		refreshGate = g;
		const call = session.handle('/xrpc/com.atproto.server.getSession');
		// the refresh was stored, its lock released
		await g.arrived;

		server.behaviour.revokeFailure = 'status_503';
		await session.signOut();
		expect(sessions.map.has(alice.did)).toBe(false);
		const from = server.stats.requests.length;
		g.release();
		await expect(call).rejects.toBeInstanceOf(SessionNotFoundError);
		expect(server.stats.requests.slice(from).map(({ server, path }) => [server, path])).toEqual([]);
	});

	it("a callback whose replaced grant's revocation is under way at a sign-out leaves no key of the ended session behind", async () => {
		const { createSigner, imports } = countingSigner();
		const held = holdingFetch();
		const { client, sessions } = await createTestClient(server, { createSigner, fetch: held.fetch });
		await signIn(server, client, alice.did);

		// the account signs in again: the new session is stored, then the older grant revoked (held)
		const revocation = held.hold('/oauth/revoke');
		const signingIn = signIn(server, client, alice.did);
		await revocation.arrived;
		const next = structuredClone(sessions.map.get(alice.did)!) as StoredSession;
		// the user signs out meanwhile (another tab): the new session ends, its key forgotten
		await client.revoke(alice.did);
		expect(sessions.map.has(alice.did)).toBe(false);
		revocation.release();
		await signingIn;

		// the ended session's key was not kept: a session holding it is imported again
		const before = imports.get(next.dpopKey.d) ?? 0;
		sessions.map.set(alice.did, next);
		await client.restore(alice.did, { refresh: false });
		expect((imports.get(next.dpopKey.d) ?? 0) - before).toBe(1);
	});
});

describe('the DPoP nonce retry across a sign-out', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, createTestClient } = env));

	it('a write whose first attempt (no nonce yet) is under way at signOut() is not sent again once signOut() resolved', async () => {
		// a new process: the PDS's nonce not known, so its first attempt is refused for it
		const { held, session } = await restoredInNewProcess(server, alice, createTestClient);
		const attempt = held.hold(CREATE_RECORD);
		// a body that can be sent again (no probe first)
		const call = createRecord(
			session,
			JSON.stringify({ repo: alice.did, collection: 'app.bsky.feed.post', record: {} }),
		);
		await attempt.arrived;

		server.behaviour.revokeFailure = 'status_503';
		await session.signOut();
		const from = server.stats.requests.length;
		attempt.release();
		await expect(call).rejects.toBeInstanceOf(SessionNotFoundError);
		// the attempt under way reached the PDS (refused for its nonce); nothing was sent after it
		expect(
			server.stats.requests
				.slice(from)
				.filter((request) => request.path === CREATE_RECORD)
				.map((request) => request.status),
		).toEqual([401]);
	});
});
