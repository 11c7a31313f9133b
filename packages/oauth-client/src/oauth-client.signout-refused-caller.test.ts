import type { Did } from '@atcute/lexicons';
import { describe, expect, it } from 'vitest';

import { SessionNotFoundError } from './errors.ts';
import type { StoredSession } from './stored-types.ts';
import { gate, holdingFetch } from './test-utils/holding-fetch.ts';
import { MapStore } from './test-utils/map-store.ts';
import { signIn, type TestOAuthServer, type TestServerEnv, useTestServer } from './test-utils/setup.ts';

describe('a refused call while another object signs the account out', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	let createTestClient: TestServerEnv['createTestClient'];
	useTestServer((env) => ({ server, alice, createTestClient } = env));

	it('does not take up the session being signed out, nor send its tokens once signOut() resolved', async () => {
		const held = holdingFetch();
		const { client, sessions } = await createTestClient(server, { fetch: held.fetch });
		await signIn(server, client, alice.did);
		// object B holds the first tokens; object A refreshes them (B's are now stale)
		const b = await client.restore(alice.did, { refresh: false });
		const a = await client.restore(alice.did, { refresh: false });
		await a.refresh();

		// A signs out: under the session's lock, its revocation under way (held)
		const revocation = held.hold('/oauth/revoke');
		const signingOut = a.signOut();
		await revocation.arrived;

		// B's token is refused meanwhile
		server.behaviour.invalidTokenOnce = true;
		const call = b.handle('/xrpc/com.atproto.server.getSession');
		const outcome = call.then(
			(response) => ({ status: response.status }),
			(error: unknown) => ({ error }),
		);
		// give B every chance to run (old code: it waits at the lock)
		await new Promise((resolve) => setTimeout(resolve, 200));
		revocation.release();
		await signingOut;
		expect(sessions.map.has(alice.did)).toBe(false);
		const result = await outcome;
		// B answered from a session whose sign-out was under way
		expect(result).toEqual({ error: expect.any(SessionNotFoundError) });

		// and once signOut() resolved, B's next call sends nothing to the PDS
		const from = server.stats.requests.length;
		await b.handle('/xrpc/com.atproto.server.getSession').catch(() => {});
		expect(server.stats.requests.slice(from).map(({ path }) => path)).toEqual([]);
	});

	it('does not take up the session being signed out from a hold another refused call read without the lock', async () => {
		// the store answers the next read of the session only when the test says, once armed
		let storeGate: ReturnType<typeof gate> | undefined;
		class GatedStore extends MapStore<StoredSession> {
			override async get(key: string): Promise<StoredSession | undefined> {
				const waiting = storeGate;
				storeGate = undefined;
				if (waiting !== undefined) {
					waiting.arrive();
					await waiting.go;
				}
				return super.get(key);
			}
		}
		// tells when the PDS has answered a call made with `watched`
		let watched: string | undefined;
		const answered = gate();
		const held = holdingFetch();
		const watching: typeof fetch = async (input, init) => {
			const response = await held.fetch(input, init);
			if (watched !== undefined && new Headers(init?.headers).get('authorization') === `DPoP ${watched}`) {
				answered.arrive();
			}
			return response;
		};
		const sessions = new GatedStore();
		const { client } = await createTestClient(server, { fetch: watching, sessions });
		await signIn(server, client, alice.did);
		// B holds the first tokens; A refreshes them, and D holds the new ones, which the PDS refused
		// on their arrival (marked: its refusals of them are held back)
		const b = await client.restore(alice.did, { refresh: false });
		const oldToken = sessions.map.get(alice.did)!.tokenSet.access_token;
		const a = await client.restore(alice.did, { refresh: false });
		await a.refresh();
		const d = await client.restore(alice.did, { refresh: false });
		sessions.map.get(alice.did)!.tokenSet.refused_on_arrival = true;

		// A signs out: under the session's lock, its revocation under way (held)
		const revocation = held.hold('/oauth/revoke');
		const signingOut = a.signOut();
		await revocation.arrived;

		// D's marked token is refused: its hold is read from the store without the lock (held)
		server.behaviour.refuseEveryToken = true;
		const read = gate();
		storeGate = read;
		const dCall = d.handle('/xrpc/com.atproto.server.getSession');
		await read.arrived;
		// B's old token is refused meanwhile: B joins D's hold, which is not B's to take up
		watched = oldToken;
		const bCall = b.handle('/xrpc/com.atproto.server.getSession').then(
			(response) => ({ status: response.status }),
			(error: unknown) => ({ error }),
		);
		await answered.arrived;
		await new Promise((resolve) => setImmediate(resolve));
		server.behaviour.refuseEveryToken = false;
		read.release();
		expect((await dCall).status).toBe(401);
		// B waits for the lock the sign-out holds, rather than send the tokens it is revoking
		await new Promise((resolve) => setTimeout(resolve, 100));
		revocation.release();
		await signingOut;
		expect(await bCall).toEqual({ error: expect.any(SessionNotFoundError) });
	});
});
