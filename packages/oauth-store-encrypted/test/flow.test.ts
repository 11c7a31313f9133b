// the whole OAuth flow through encrypted stores on a real SQLite file, against the project's test
// OAuth server: sign-in, refresh, and a key rotation whose rewrap races real refreshes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createMemoryLock, type StoredSession, type StoredState } from '@atcute/oauth-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// helpers other packages keep in their folders, by path (see src/internal/test-backends.ts)
import {
	createTestClient,
	signIn,
	startTestOAuthServer,
	type TestOAuthServer,
} from '../../oauth-client/src/test-utils/setup.ts';
import { SqliteStore } from '../../oauth-store-sqlite/src/index.ts';
import { openRawDatabase } from '../../oauth-store-sqlite/src/internal/test-raw-database.ts';
import { encryptStore } from '../src/encrypted-store.ts';
import { generateStoreKey } from '../src/generate-store-key.ts';
import type { StoreKey } from '../src/store-key.ts';

type Did = Parameters<typeof signIn>[2];

const A = generateStoreKey('key-a');
const B = generateStoreKey('key-b');

describe('encryptStore under the OAuth flow', () => {
	let server: TestOAuthServer;
	let folder: string;
	beforeAll(async () => {
		server = await startTestOAuthServer();
		folder = mkdtempSync(join(tmpdir(), 'oauth-store-encrypted-flow-'));
	});
	afterAll(async () => {
		await server.close();
		rmSync(folder, { recursive: true, force: true });
	});

	it('signs in, refreshes, and rotates keys while refreshes run, losing no refresh token', {
		timeout: 60_000,
	}, async () => {
		const path = join(folder, 'oauth.db');
		const opened: { close(): void }[] = [];
		const open = <K extends string, V>(table: string) => {
			const store = new SqliteStore<K, V>({ path, table });
			opened.push(store);
			return store;
		};
		const storesWith = (keys: StoreKey[]) => ({
			sessions: encryptStore<Did, StoredSession>(open('oauth_sessions'), { keys }),
			states: encryptStore<string, StoredState>(open('oauth_states'), { keys }),
		});
		// the lock the clients refresh under, and the rewrap with them
		const lock = createMemoryLock();
		const spy = openRawDatabase(path);
		const rawRows = () =>
			spy.prepare('SELECT key, value FROM oauth_sessions').all() as { key: string; value: string }[];

		const before = storesWith([A]);
		const first = await createTestClient(server, { stores: before, requestLock: lock });
		const dids = ['one', 'two', 'three'].map(
			(name) => server.createAccount({ handle: `${name}.test` }).did as Did,
		);
		for (const did of dids) await signIn(server, first.client, did);

		// nothing of a session in clear, in the file
		const rows = new Map(rawRows().map(({ key, value }) => [key, value]));
		expect([...rows.keys()].sort()).toEqual([...dids].sort());
		for (const did of dids) {
			const value = rows.get(did)!;
			expect(value).not.toContain(server.sessions(did).at(-1)!.refreshToken!);
			expect(value).not.toContain((await before.sessions.get(did))!.dpopKey.d);
			expect(JSON.parse(value)).toMatchObject({ v: 1, kid: 'key-a' });
		}

		// rotation step 1: B known everywhere, A still encrypting; step 2: B encrypts. while step 2
		// rolls out, processes on either step refresh the same sessions, and read each other's writes
		const known = await createTestClient(server, {
			key: first.key,
			stores: storesWith([A, B]),
			requestLock: lock,
		});
		const after = storesWith([B, A]);
		const second = await createTestClient(server, { key: first.key, stores: after, requestLock: lock });
		await Promise.all(
			dids.flatMap((did) => [
				known.client.restore(did, { refresh: true }),
				second.client.restore(did, { refresh: true }),
			]),
		);

		// the last write of each session by a process still on step 1: under A
		for (const did of dids) await known.client.restore(did, { refresh: true });
		expect(await after.sessions.rewrap(dids, { dryRun: true })).toMatchObject({ byKeyId: { 'key-a': 3 } });

		// step 3, once every process is on step 2: the rewrap races more refreshes
		const third = await createTestClient(server, {
			key: first.key,
			stores: storesWith([B, A]),
			requestLock: lock,
		});
		// the rewrap's writes are slow (a busy database), so unlocked, each would land after a refresh
		const slowStore = open<Did, StoredSession>('oauth_sessions');
		const slowSet = slowStore.set.bind(slowStore);
		slowStore.set = async (key, value, options) => {
			await new Promise((resolve) => setTimeout(resolve, 100));
			return slowSet(key, value, options);
		};
		const rewrapper = encryptStore(slowStore, { keys: [B, A] });
		const [report] = await Promise.all([
			rewrapper.rewrap(dids, { lock }),
			...dids.map((did) => second.client.restore(did, { refresh: true })),
			...dids.map((did) => third.client.restore(did, { refresh: true })),
		]);
		// (what it counts depends on who got each lock first)
		expect(report).toMatchObject({ checked: 3, failed: [] });

		// every stored refresh token is the server's latest, under B; A can be retired
		const retired = storesWith([B]);
		expect(await retired.sessions.rewrap(dids, { dryRun: true })).toMatchObject({ byKeyId: { 'key-b': 3 } });
		for (const did of dids) {
			const stored = await retired.sessions.get(did);
			expect(stored!.tokenSet.refresh_token).toBe(server.sessions(did).at(-1)!.refreshToken);
		}
		const last = await createTestClient(server, { key: first.key, stores: retired, requestLock: lock });
		for (const did of dids) expect((await last.client.restore(did, { refresh: true })).did).toBe(did);
		server.assertNoRejections();

		spy.close();
		for (const store of opened) store.close();
	});
});
