import { fileURLToPath } from 'node:url';

import type { Did } from '@atcute/lexicons';
import type { StoredSession, StoredState } from '@atcute/oauth-client';
import { exportJwkKey } from '@atcute/oauth-keys';
import { startAppProcess } from '@atcute-oauth/store-conformance';
import { describe, expect, it } from 'vitest';

import { createTestClient, signIn, TEST_CLIENT_METADATA } from '../../oauth-client/src/test-utils/setup.ts';
import { SqliteStore } from '../src/index.ts';
import { useAppTestEnv } from './support/use-app-test-env.ts';

// a process frozen (a serverless function suspended, a laptop asleep, a debugger's pause) while
// its refresh waits for the answer: the server rotates the refresh token and answers, the answer
// waits in the socket, and the time limit passes. on thaw the timer that is due runs before the
// socket is read: it must not throw away the answer, or the session keeps a spent refresh token
// and its next refresh signs the user out.

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/frozen-refresh-child.mjs', import.meta.url));

/** the child's time limit for the authorization server (a token request: 3×, 1.5 s). */
const TIMEOUT_MS = 500;
/** how long the child stays frozen: well past the token request's limit. */
const FROZEN_MS = 3_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('an app process frozen while its refresh is answered', () => {
	const env = useAppTestEnv();

	it('keeps the tokens the answer brought once thawed past its time limit', { timeout: 25_000 }, async () => {
		const path = env.temp.file('frozen-refresh.db');
		const sessions = new SqliteStore<Did, StoredSession>({ path, table: 'oauth_sessions' });
		const states = new SqliteStore<string, StoredState>({ path, table: 'oauth_states' });
		env.toClose.push(sessions, states);
		const { client, key } = await createTestClient(env.server, { stores: { sessions, states } });
		const did = env.server.createAccount({ handle: 'frozen.test' }).did as Did;
		await signIn(env.server, client, did);
		const before = (await sessions.get(did))!.tokenSet.refresh_token;
		env.server.reset();
		// the token request waits at the server, so the child can be frozen before its answer comes
		env.server.behaviour.tokenDelayMs = 600;

		const app = startAppProcess(
			CHILD,
			{
				path,
				sessionsTable: 'oauth_sessions',
				statesTable: 'oauth_states',
				timeoutMs: TIMEOUT_MS,
				did,
				plcUrl: env.server.plcUrl,
				pdsUrl: env.server.pdsUrl,
				clientJwk: await exportJwkKey(key),
				metadata: TEST_CLIENT_METADATA,
			},
			{ cwd: PACKAGE_DIR },
		);
		const pid = app.process.pid!;
		let stopped = false;
		try {
			await app.next('ready');
			app.go();
			// the refresh (after the nonce challenge) reached the server, which holds it a while
			const tokenRequests = () => env.server.stats.requests.filter(({ path }) => path === '/oauth/token');
			await expect
				.poll(
					() =>
						tokenRequests().some(
							(request) =>
								request.status === 0 && request.error === undefined && tokenRequests()[0]!.status !== 0,
						),
					{
						timeout: 10_000,
						interval: 5,
					},
				)
				.toBe(true);
			process.kill(pid, 'SIGSTOP');
			stopped = true;
			// the server rotated the refresh token and answered while the child was frozen
			await expect
				.poll(() => env.server.stats.token.refresh_token, { timeout: 10_000, interval: 20 })
				.toBe(1);
			await sleep(FROZEN_MS);
			process.kill(pid, 'SIGCONT');
			stopped = false;

			const { ok, failures } = await app.next('done');
			expect(failures).toEqual([]);
			expect(ok).toBe(1);
		} finally {
			if (stopped) process.kill(pid, 'SIGCONT');
			await app.kill();
		}
		env.server.behaviour.tokenDelayMs = undefined;
		// the new refresh token, the one the server will take next, is the one stored
		const stored = (await sessions.get(did))!.tokenSet.refresh_token;
		expect(stored).not.toBe(before);
		expect(stored).toBe(env.server.sessions(did).at(-1)!.refreshToken);
	});
});
