import type { OAuthClient, SessionStore, StateStore, StoredSession, StoredState } from '@atcute/oauth-client';
import type { TestOAuthServer } from '@atcute-oauth/test-oauth-server';
import { expect, it } from 'vitest';

import type { AppProcess } from './app-process.ts';

type Did = StoredSession['tokenSet']['sub'];

/** an account this process signed in through the whole flow, its session in the store under test. */
export interface CrossProcessAccount {
	did: Did;
	/** the OAuthClient that signed it in, on the store and lock under test. */
	client: OAuthClient;
	/** this process's view of the shared session store. */
	sessions: SessionStore;
	/** this process's view of the shared state store (with an atomic `take`). */
	states: StateStore;
	/** what every app process is started with (the fixture's `CHILD_CONFIG`), on the same data. */
	childConfig: Record<string, unknown>;
	/** the locks still held or leased for this account: `[]` once every holder has let go. */
	locksLeft(): Promise<unknown[]>;
}

/** one shared store and lock under test, as its cross-process test file sets them up. */
export interface CrossProcessHarness {
	/** the test server, started by the test file before these tests run. */
	server: () => TestOAuthServer;
	/**
	 * a new account, with its own keys, tables or file, so tests never share a session. with
	 * `leaseMs`, a lock that holds by lease uses that lease, here and (through `childConfig`) in
	 * every app process, so a dead holder's lock runs out within the test.
	 */
	signedInAccount: (options?: { leaseMs?: number }) => Promise<CrossProcessAccount>;
	/** starts one app process (the adapter's fixture, on `app-child.mjs`) with `config`. */
	startApp: (config: Record<string, unknown>) => AppProcess;
	/** the fixture's `config.lock` value for the lock under test (any other value: a lock per process). */
	sharedLock: string;
	/** per test; the default fits a local store (a database server may need longer). */
	timeout?: number;
}

/** how many app processes, and how many concurrent calls each (the 4 × 25). */
const PROCESSES = 4;
const CALLS_PER_PROCESS = 25;

/** how many states the processes take at once. */
const STATES = 300;

/** ends the access token at the server and marks it expired in the stored session. */
const makeStale = async (server: TestOAuthServer, sessions: SessionStore, did: Did): Promise<void> => {
	server.expireAccessTokens(did);
	const stored = (await sessions.get(did))!;
	await sessions.set(did, { ...stored, tokenSet: { ...stored.tokenSet, expires_at: Date.now() - 1000 } });
};

/**
 * starts `PROCESSES` app processes making `CALLS_PER_PROCESS` calls each, lets them all go at
 * once, and adds up their results; every process is killed (by pid) before this returns.
 */
const runApps = async (
	startApp: CrossProcessHarness['startApp'],
	config: Record<string, unknown>,
): Promise<{ ok: number; failures: Array<{ name: string; message: string }> }> => {
	const apps = Array.from({ length: PROCESSES }, () =>
		startApp({ ...config, mode: 'calls', calls: CALLS_PER_PROCESS }),
	);
	try {
		// every process is connected and has read the session before any starts, so they really run together
		await Promise.all(apps.map((app) => app.next('ready')));
		for (const app of apps) app.go();
		const results = await Promise.all(apps.map((app) => app.next('done')));
		await Promise.all(apps.map((app) => app.exited));
		return {
			ok: results.reduce((sum, result) => sum + result.ok, 0),
			failures: results.flatMap((result) => result.failures),
		};
	} finally {
		await Promise.all(apps.map((app) => app.kill()));
	}
};

/**
 * the refresh of a stale session shared by `PROCESSES` processes (each its own OAuthClient on the
 * store and lock under test) reaches the authorization server exactly once, every call succeeds
 * and the store ends with the newest refresh token (R1); and, as a negative control that shows the
 * test can fail, that without the shared lock the refresh token is spent more than once; and that
 * a holder process killed mid-refresh, before it spent the refresh token, leaves the session to
 * refresh normally once its lock is freed; and that the state store's `take` hands each state to
 * one process only, when every process takes them all at once. call it inside the adapter's `describe`, after the
 * hooks that start what `harness` uses.
 */
export const describeCrossProcessRefresh = (harness: CrossProcessHarness): void => {
	const { timeout = 60_000 } = harness;

	/** a stale session, with the token endpoint slowed so the refresh stays open while others wait. */
	const staleAccount = async () => {
		const server = harness.server();
		const account = await harness.signedInAccount();
		const before = (await account.sessions.get(account.did))!.tokenSet.refresh_token;
		await makeStale(server, account.sessions, account.did);
		server.reset();
		server.behaviour.tokenDelayMs = 300;
		return { server, before, ...account };
	};

	it(`refreshes once for ${PROCESSES} processes × ${CALLS_PER_PROCESS} concurrent calls on a stale session, all succeeding (R1)`, {
		timeout,
	}, async () => {
		const { server, before, did, sessions, childConfig, locksLeft } = await staleAccount();

		const { ok, failures } = await runApps(harness.startApp, { ...childConfig, lock: harness.sharedLock });

		expect(failures).toEqual([]);
		expect(ok).toBe(PROCESSES * CALLS_PER_PROCESS);
		// the refresh token reached the server exactly once
		expect(server.stats.refreshAttempts).toBe(1);
		expect(server.stats.token.refresh_token).toBe(1);
		expect(server.stats.refreshByDid.get(did)).toBe(1);
		expect(server.stats.resource).toBe(PROCESSES * CALLS_PER_PROCESS);
		// the store holds the newest refresh token, the one the server will accept next
		const current = server.sessions(did).at(-1)!;
		expect(current.active).toBe(true);
		const stored = (await sessions.get(did))!.tokenSet.refresh_token;
		expect(stored).not.toBe(before);
		expect(stored).toBe(current.refreshToken);
		// every lock was released
		expect(await locksLeft()).toEqual([]);
		server.assertNoRejections();
	});

	it('spends the refresh token more than once without a shared lock (negative control: the test can fail)', {
		timeout,
	}, async () => {
		const { server, childConfig } = await staleAccount();

		// each process with a lock of its own, as with the default in-memory lock
		const { ok, failures } = await runApps(harness.startApp, { ...childConfig, lock: 'memory' });

		expect(server.stats.refreshAttempts).toBeGreaterThan(1);
		expect(server.stats.token.refresh_token > 1 || failures.length > 0).toBe(true);
		expect(ok + failures.length).toBe(PROCESSES * CALLS_PER_PROCESS);
	});

	// in one process a synchronous driver (better-sqlite3) cannot interleave two takes, so only
	// processes show a take that reads, then deletes: a sign-in state handed out twice
	it(`hands each of ${STATES} states to exactly one of ${PROCESSES} processes taking them all at once`, {
		timeout,
	}, async () => {
		const { states, childConfig } = await harness.signedInAccount();
		const keys = Array.from({ length: STATES }, (_, i) => `take-${i}-${Math.random().toString(36).slice(2)}`);
		const expiresAt = Date.now() + 10 * 60 * 1000;
		for (const [i, key] of keys.entries()) {
			await states.set(key, { i } as unknown as StoredState, { expiresAt });
		}
		const apps = Array.from({ length: PROCESSES }, () =>
			harness.startApp({ ...childConfig, mode: 'take', keys }),
		);
		try {
			await Promise.all(apps.map((app) => app.next('ready')));
			for (const app of apps) app.go();
			const taken = (await Promise.all(apps.map((app) => app.next('taken')))).flatMap(
				(message) => message.keys,
			);
			// every state went to one process, and none to two
			expect(taken).toHaveLength(STATES);
			expect(new Set(taken).size).toBe(STATES);
			expect(await states.get(keys[0]!)).toBeUndefined();
		} finally {
			await Promise.all(apps.map((app) => app.kill()));
		}
	});

	it('refreshes normally after the lock holder was killed mid-refresh', { timeout }, async () => {
		const server = harness.server();
		const leaseMs = 1_000;
		const { did, client, sessions, childConfig, locksLeft } = await harness.signedInAccount({ leaseMs });
		const before = (await sessions.get(did))!.tokenSet.refresh_token;
		server.reset();
		// the holder stalls on discovery, inside the lock and before the token request: killed
		// there, it has not spent the refresh token. (killed after sending it, the server may
		// rotate the token with nobody to store the answer; no lock can save that session.)
		server.behaviour.metadataDelayMs = 10_000;
		const holder = harness.startApp({ ...childConfig, lock: harness.sharedLock, mode: 'refresh' });
		try {
			await holder.next('ready');
			holder.go();
			await expect.poll(locksLeft, { timeout: 10_000, interval: 20 }).toHaveLength(1);
			await holder.kill();
		} finally {
			await holder.kill();
		}
		server.behaviour.metadataDelayMs = undefined;

		// this process gets the lock (at once where the server frees it, or once the dead
		// holder's lease has run out), then refreshes
		const session = await client.restore(did, { refresh: true });
		expect(server.stats.refreshAttempts).toBe(1);
		expect(server.stats.token.refresh_token).toBe(1);
		const stored = (await sessions.get(did))!.tokenSet.refresh_token;
		expect(stored).not.toBe(before);
		expect(stored).toBe(server.sessions(did).at(-1)!.refreshToken);
		const response = await session.handle('/xrpc/com.atproto.server.getSession');
		expect(response.status).toBe(200);
		expect(await response.json()).toMatchObject({ did });
		expect(await locksLeft()).toEqual([]);
	});
};
