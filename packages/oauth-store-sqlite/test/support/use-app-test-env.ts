import { afterAll, beforeAll } from 'vitest';

import { startTestOAuthServer, type TestOAuthServer } from '../../../oauth-client/src/test-utils/setup.ts';
import { tempDir } from '../../src/internal/test-files.ts';

/** what a test of app processes on a SQLite file works with, set up before its first test. */
export interface AppTestEnv {
	/** the folder its SQLite files go in, removed after the last test. */
	temp: ReturnType<typeof tempDir>;
	/** the OAuth test server (authorization server, PDS and PLC directory). */
	server: TestOAuthServer;
	/** every store, lock and raw connection the test process opened: closed before the files go. */
	toClose: Array<{ close(): unknown }>;
}

/**
 * a temp folder and an OAuth test server for the enclosing `describe`, closed (with whatever the
 * tests put in `toClose`) after its last test. the children the tests start run the built
 * packages, which the root vitest globalSetup builds before any test.
 */
export const useAppTestEnv = (): AppTestEnv => {
	// filled in by beforeAll: the tests read it only once it has run
	const env = { toClose: [] } as unknown as AppTestEnv;
	beforeAll(async () => {
		env.temp = tempDir();
		env.server = await startTestOAuthServer();
	}, 180_000);
	afterAll(async () => {
		for (const handle of env.toClose.splice(0)) handle.close();
		await env.server?.close();
		env.temp?.remove();
	});
	return env;
};
