import type {} from '@atcute/atproto';
import { Client } from '@atcute/client';
import { generatePrivateKey, type OAuthSession } from '@atcute/oauth-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type LocalAccount, type LocalNetwork, type PdsRequest, startLocalNetwork } from '../src/index.ts';
import {
	type ClientDocuments,
	createConfidentialClient,
	createStores,
	START_TIMEOUT_MS,
	serveClientDocuments,
	signIn,
	TEST_TIMEOUT_MS,
} from './helpers.ts';

let network: LocalNetwork;
let alice: LocalAccount;
const documents: ClientDocuments[] = [];

beforeAll(async () => {
	network = await startLocalNetwork({ accounts: [{ handle: 'alice.test' }], traceRequests: true });
	alice = network.accounts[0]!;
}, START_TIMEOUT_MS);

afterAll(async () => {
	await Promise.all(documents.map((served) => served.close()));
	await network?.close();
});

/** a confidential client whose clock runs `skew()` ms off the PDS's (the same host's clock). */
const clientWithClock = async (skew: () => number) => {
	const served = await serveClientDocuments(network.tls);
	documents.push(served);
	return createConfidentialClient({
		network,
		documents: served,
		keyset: [await generatePrivateKey('main', 'ES256')],
		now: () => Date.now() + skew(),
	});
};

const getSession = async (session: OAuthSession) => {
	try {
		const response = await new Client({ handler: session }).get('com.atproto.server.getSession', {});
		return response.ok ? response.data.did : `failed: ${response.status} ${JSON.stringify(response.data)}`;
	} catch (err) {
		// a refresh the server refused (its grant revoked)
		return `threw ${(err as Error).name}: ${(err as Error).message}`;
	}
};

/** the requests the PDS refused (400 or 401) from now on. */
const watchRefusals = async () => {
	const from = (await network.syncRequests()).length;
	return async (): Promise<string[]> =>
		(await network.syncRequests())
			.slice(from)
			.filter((request: PdsRequest) => request.status === 400 || request.status === 401)
			.map((request) => `${request.status} ${request.method} ${request.path}`);
};

// the reference server refuses a client assertion whose iat is ahead of its clock by any amount
// or more than 60 s behind it, and a DPoP proof more than 180 s off: a client whose clock is off
// by that much failed every sign-in and refresh (by part of a second, most of them)
describe('a confidential client whose clock differs from the reference server', {
	timeout: TEST_TIMEOUT_MS,
}, () => {
	for (const [skew, what] of [
		[7000, '7 s ahead (its assertions, dated 5 s back, are still "not in the past")'],
		[-90_000, '90 s behind (its assertions have expired on arrival)'],
		[200_000, '200 s ahead (its proofs are beyond the 180 s leeway too)'],
	] as const) {
		it(`signs in, calls the PDS and refreshes, ${what}`, async () => {
			const oauth = await clientWithClock(() => skew);
			const firstRound = await watchRefusals();
			const { session } = await signIn(oauth, network, alice);
			expect(await getSession(session)).toBe(alice.did);
			await session.refresh();
			expect(await getSession(session)).toBe(alice.did);
			// the first PAR only: refused for our clock (and for want of a nonce, as any new client's
			// first request is), then retried on the server's
			const refused = await firstRound();
			expect(refused.length).toBeGreaterThan(0);
			expect(refused.length).toBeLessThanOrEqual(2);
			expect(new Set(refused)).toEqual(new Set([expect.stringMatching(/^40[01] POST \/oauth\/par$/)]));

			// from then on, stamped on the server's clock from the start
			const laterRounds = await watchRefusals();
			for (let round = 0; round < 2; round++) {
				const { session } = await signIn(oauth, network, alice);
				expect(await getSession(session)).toBe(alice.did);
				await session.refresh();
				expect(await getSession(session)).toBe(alice.did);
			}
			expect(await laterRounds()).toEqual([]);
		});
	}

	// the reference server answers a revocation 200 even when it refused the client's assertion,
	// so a sign-out that was refused for its clock looked like any other, its grant left live
	// within the 5 s an assertion is dated back, it is taken at once; beyond, the answer's Date
	// (earlier than the assertion) says it was refused, and it is sent again on the server's clock.
	// the same a minute and more behind, where the proofs are still taken (up to 190 s old) and the
	// assertion, over 60 s old, is not: the answer's Date a minute after it tells that refusal
	it('signs out from a new process whose clock is 1.5 s or 30 s ahead, or 90 s behind: the grant ends at the server', async () => {
		const served = await serveClientDocuments(network.tls);
		documents.push(served);
		const keyset = [await generatePrivateKey('main', 'ES256')];
		const stores = createStores();
		for (const skew of [1500, 1500, 30_000, 30_000, -90_000, -90_000]) {
			/** a client with a clock of its own, as a new process has: it knows no server's clock yet. */
			const processClient = () =>
				createConfidentialClient({
					network,
					documents: served,
					keyset,
					stores,
					now: () => Date.now() + skew,
				});
			const signedIn = processClient();
			await signIn(signedIn, network, alice);
			const saved = structuredClone(await stores.sessions.get(alice.did));
			const deleted: unknown[] = [];
			const signingOut = processClient();
			signingOut.addEventListener((event) => {
				if (event.type === 'deleted') deleted.push(event);
			});
			await signingOut.revoke(alice.did);
			expect(deleted).toEqual([expect.objectContaining({ revokedAtServer: true })]);
			// the signed-out tokens, put back, are refused: the grant ended at the server
			await stores.sessions.set(alice.did, saved!);
			expect(await getSession(await signedIn.restore(alice.did))).toMatch(
				/^(failed: 401|threw TokenRefreshError)/,
			);
		}
	});

	it('keeps calling the PDS when the clocks drift apart after sign-in', async () => {
		let skew = 0;
		const oauth = await clientWithClock(() => skew);
		const { session } = await signIn(oauth, network, alice);
		expect(await getSession(session)).toBe(alice.did);

		const refusals = await watchRefusals();
		skew = 200_000;
		expect(await getSession(session)).toBe(alice.did);
		expect(await getSession(session)).toBe(alice.did);
		await session.refresh();
		expect(await getSession(session)).toBe(alice.did);
		expect(await refusals()).toEqual(['401 GET /xrpc/com.atproto.server.getSession']);
	});
});
