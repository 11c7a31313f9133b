import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
	SESSION_COOKIE,
	type StartServerOptions,
	startServer,
} from '../../../examples/hono-app/src/index.ts';
import {
	browser,
	COOKIE_SECRET,
	generatePrivateKeyJwk,
	localServerOptions,
	locationOf,
	PUBLIC_URL,
} from '../../../examples/hono-app/test/helpers.ts';
import { startTestOAuthServer, type TestOAuthServer } from '../../oauth-client/src/test-utils/setup.ts';
import { createTestDatabase, type TestDatabase, testPool } from '../src/test-utils/postgres-server.ts';
import { sharedPostgresUrl } from '../src/test-utils/shared-server.ts';

// the example app (examples/hono-app) with DATABASE_URL set: its sessions, states and refresh
// lock in PostgreSQL. it runs here, beside this package's tests, on the PostgreSQL server they share.
describe('the Hono example on PostgreSQL (DATABASE_URL)', () => {
	let database: TestDatabase;
	let admin: pg.Pool;
	let server: TestOAuthServer;

	beforeAll(async () => {
		database = await createTestDatabase(sharedPostgresUrl(), 'hono_example');
		admin = testPool(database.url);
		server = await startTestOAuthServer();
	}, 120_000);
	afterAll(async () => {
		await admin?.end();
		await server?.close();
		await database?.drop();
	});

	it('keeps a sign-in across a restart of the app, refreshes under the lock, and forgets it on logout', {
		timeout: 60_000,
	}, async () => {
		const alice = server.createAccount({ handle: 'alice.test' });
		const options: StartServerOptions = {
			port: 0,
			publicUrl: PUBLIC_URL,
			privateKeyJwk: await generatePrivateKeyJwk(),
			cookieSecret: COOKIE_SECRET,
			databaseUrl: database.url,
			...localServerOptions(server),
			log: () => {},
			warn: () => {},
		};
		const first = await startServer(options);
		server.registerClient({ ...first.oauth.metadata, jwks_uri: `${first.listenUrl}/jwks.json` });
		const user = browser(first.app);
		// the example's sign-in form posts, from its own origin
		const login = await user.request('/login', {
			method: 'POST',
			headers: { 'sec-fetch-site': 'same-origin' },
			body: new URLSearchParams({ handle: alice.handle }),
		});
		const params = await server.authorize(locationOf(login), { did: alice.did });
		// the state went through the states table, taken once by the callback
		expect((await admin.query('SELECT count(*)::int AS n FROM oauth_states')).rows[0].n).toBe(1);
		const callback = await user.request(`/oauth/callback?${params}`);
		expect(locationOf(callback)).toBe('/protected');
		expect(user.jar.get(SESSION_COOKIE)).toBeDefined();
		expect((await admin.query('SELECT count(*)::int AS n FROM oauth_states')).rows[0].n).toBe(0);
		const rows = await admin.query('SELECT key, expires_at FROM oauth_sessions');
		expect(rows.rows).toEqual([{ key: alice.did, expires_at: null }]);
		await first.close();

		// another process of the app (here: the app started again) finds the session in the database
		const second = await startServer(options);
		server.registerClient({ ...second.oauth.metadata, jwks_uri: `${second.listenUrl}/jwks.json` });
		const again = browser(second.app, user.jar);
		server.expireAccessTokens(alice.did);
		await second.oauth.restore(alice.did as `did:${string}:${string}`, { refresh: true });
		const page = await again.request('/protected');
		expect(page.status).toBe(200);
		expect(await page.text()).toContain(alice.handle);
		expect(server.stats.token.refresh_token).toBe(1);

		const logout = await again.request('/logout', { method: 'POST' });
		expect(logout.status).toBeLessThan(400);
		expect((await admin.query('SELECT count(*)::int AS n FROM oauth_sessions')).rows[0].n).toBe(0);
		await second.close();
		server.assertNoRejections();
	});
});
