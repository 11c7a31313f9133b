import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import type { Did } from '@atcute/lexicons';
import type { StoredSession, StoredState } from '@atcute/oauth-client';
import { exportJwkKey } from '@atcute/oauth-keys';
import { describe, expect, it } from 'vitest';

import { createTestClient, signIn, TEST_CLIENT_METADATA } from '../../oauth-client/src/test-utils/setup.ts';
import { SqliteStore } from '../src/index.ts';
import { useAppTestEnv } from './support/use-app-test-env.ts';

// a script that uses the client and returns (a CLI, a cron job) and forgets close(): whatever
// the stores and locks leave behind (timers, the checkpoint worker thread, connections) must not
// keep the event loop alive, or the script never ends

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/exit-child.mjs', import.meta.url));
/** far past the few hundred milliseconds the script's work takes: one still running by then hangs. */
const HANG_MS = 30_000;

interface Outcome {
	code: number | null;
	signal: string | null;
	stdout: string;
	stderr: string;
}

const runScript = (config: Record<string, unknown>): Promise<Outcome> =>
	new Promise((resolve) => {
		const child = execFile(
			process.execPath,
			[CHILD],
			{ cwd: PACKAGE_DIR, env: { ...process.env, CHILD_CONFIG: JSON.stringify(config) }, timeout: HANG_MS },
			(_err, stdout, stderr) => resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr }),
		);
	});

describe('a script that uses the client on SQLite and returns without close()', () => {
	let accounts = 0;

	const env = useAppTestEnv();

	const signedIn = async () => {
		const path = env.temp.file(`exit-${++accounts}.db`);
		const sessions = new SqliteStore<Did, StoredSession>({ path, table: 'oauth_sessions' });
		const states = new SqliteStore<string, StoredState>({ path, table: 'oauth_states' });
		env.toClose.push(sessions, states);
		const { client, key } = await createTestClient(env.server, { stores: { sessions, states } });
		const did = env.server.createAccount({ handle: `exit${accounts}.test` }).did as Did;
		await signIn(env.server, client, did);
		return {
			path,
			did,
			plcUrl: env.server.plcUrl,
			pdsUrl: env.server.pdsUrl,
			clientJwk: await exportJwkKey(key),
			metadata: TEST_CLIENT_METADATA,
		};
	};

	for (const lock of ['default', 'sqlite']) {
		it(`exits on its own with the ${lock} lock`, { timeout: HANG_MS + 10_000 }, async () => {
			const outcome = await runScript({ ...(await signedIn()), lock });
			expect(outcome.stdout).toBe('done\n');
			expect(outcome).toMatchObject({ code: 0, signal: null });
		});
	}
});
