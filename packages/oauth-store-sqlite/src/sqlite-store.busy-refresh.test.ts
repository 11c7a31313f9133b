// a refresh whose write finds the database locked by another connection (SQLITE_BUSY): the
// refresh token is spent by then, so the client writes again rather than end the session
import { LocalActorResolver, PlcDidDocumentResolver, XrpcHandleResolver } from '@atcute/identity-resolver';
import type { Did } from '@atcute/lexicons';
import { generatePrivateKey, MemoryStore, OAuthClient, type StoredSession } from '@atcute/oauth-node-client';
import { startTestOAuthServer, type TestOAuthServer } from '@atcute-oauth/test-oauth-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { tempDir } from './internal/test-files.ts';
import { openRawDatabase } from './internal/test-raw-database.ts';
import { SqliteStore } from './sqlite-store.ts';

describe('a refresh that finds the SQLite database busy', () => {
	let server: TestOAuthServer;
	let alice: { did: Did; handle: string };
	const temp = tempDir();
	const stores: SqliteStore[] = [];
	beforeAll(async () => {
		server = await startTestOAuthServer();
		alice = server.createAccount({ handle: 'alice.test' }) as { did: Did; handle: string };
	});
	afterEach(() => {
		for (const store of stores.splice(0)) store.close();
	});
	afterAll(async () => {
		await server.close();
		temp.remove();
	});

	it('keeps the refreshed session once the other connection lets go', async () => {
		const path = temp.file();
		const setup = openRawDatabase(path);
		setup.exec('PRAGMA journal_mode = WAL');
		setup.close();
		// a short busy timeout, so the write fails while the other connection holds the database
		const sessions = new SqliteStore({ path, busyTimeout: 50 });
		stores.push(sessions);
		const oauth = new OAuthClient({
			metadata: {
				client_id: 'https://app.example.com/oauth-client-metadata.json',
				redirect_uris: ['https://app.example.com/oauth/callback'],
				scope: ['atproto', 'transition:generic'],
			},
			keyset: [await generatePrivateKey('main')],
			stores: { sessions: sessions as SqliteStore<Did, StoredSession>, states: new MemoryStore() },
			actorResolver: new LocalActorResolver({
				handleResolver: new XrpcHandleResolver({ serviceUrl: server.pdsUrl }),
				didDocumentResolver: new PlcDidDocumentResolver({ apiUrl: server.plcUrl }),
			}),
			allowHttp: true,
		});
		server.registerClient(oauth.metadata);
		const { url } = await oauth.authorize({ target: { type: 'account', identifier: alice.handle } });
		await oauth.callback(await server.authorize(url, { did: alice.did }));
		const before = ((await sessions.get(alice.did)) as StoredSession).tokenSet.refresh_token;

		// another connection takes the write lock (WAL: reads go on); it lets go 100 ms after the
		// client's first write failed, so that write cannot have passed by luck of timing
		const other = openRawDatabase(path);
		other.exec('BEGIN IMMEDIATE');
		const failures: unknown[] = [];
		const set = sessions.set.bind(sessions);
		sessions.set = async (key, value, options) => {
			try {
				return await set(key, value, options);
			} catch (err) {
				if (failures.push(err) === 1) setTimeout(() => other.exec('ROLLBACK'), 100);
				throw err;
			}
		};

		await oauth.restore(alice.did, { refresh: true });
		other.close();
		expect(failures.length).toBeGreaterThan(0);
		expect(failures[0]).toMatchObject({ sqliteCode: 'SQLITE_BUSY', transient: true });
		const after = ((await sessions.get(alice.did)) as StoredSession).tokenSet.refresh_token;
		expect(after).not.toBe(before);
		// the stored refresh token is the live one at the server
		expect(server.sessions(alice.did).at(-1)).toMatchObject({ active: true });
	});
});
