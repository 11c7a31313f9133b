// take over entries it must not return: the entry stays in the store, with the expiry it had.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { MemoryStore } from '@atcute/oauth-store-memory';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// by path, as in ./internal/test-backends.ts
import { SqliteStore } from '../../oauth-store-sqlite/src/index.ts';
import {
	openRawDatabase,
	type RawDatabase,
} from '../../oauth-store-sqlite/src/internal/test-raw-database.ts';
import { encryptStore } from './encrypted-store.ts';
import { StoreDecryptionError } from './errors.ts';
import { KEY_A, KEY_B } from './internal/test-fixtures.ts';

const TEN_MINUTES = 600_000;

/** an authorization state as the OAuth client stores it: its own expiresAt is the one it is set with. */
const state = (expiresAt: number) => ({ issuer: 'https://bsky.social', verifier: 'v', expiresAt });

describe('EncryptedStore.take', () => {
	it('keeps the expiry of a plaintext state it refuses to return', async () => {
		let now = 1_767_225_600_000;
		const inner = new MemoryStore<string, unknown>({ now: () => now });
		// written before encryption was turned on, as the client writes states
		inner.set('s1', state(now + TEN_MINUTES), { expiresAt: now + TEN_MINUTES });

		const store = encryptStore(inner, { keys: [KEY_A] });
		await expect(store.take!('s1')).rejects.toMatchObject({ code: 'plaintext', entryKey: 's1' });
		expect(inner.get('s1')).toEqual(state(now + TEN_MINUTES));

		now += TEN_MINUTES + 1;
		expect(inner.get('s1')).toBeUndefined();
	});

	it('puts back, with its own expiry, a plaintext state written between its check and its take', async () => {
		let now = 1_767_225_600_000;
		const expiresAt = now + TEN_MINUTES;
		const inner = new RacingMemoryStore({ now: () => now });
		const store = encryptStore(inner, { keys: [KEY_A] });
		await store.set('s1', state(expiresAt), { expiresAt });
		// another process, still without the wrapper, rewrites it just before the take
		inner.beforeTake = () => inner.set('s1', state(expiresAt), { expiresAt });

		await expect(store.take!('s1')).rejects.toMatchObject({ code: 'plaintext' });
		expect(inner.get('s1')).toEqual(state(expiresAt));
		now = expiresAt + 1;
		expect(inner.get('s1')).toBeUndefined();
	});

	describe('over SQLite', () => {
		let dir: string;
		let path: string;
		let spy: RawDatabase;
		const opened: SqliteStore[] = [];
		const open = () => {
			const store = new SqliteStore({ path, table: 'oauth_states' });
			opened.push(store);
			return store;
		};
		/** from now on every insert into the table fails, as on a full disk. */
		const refuseInserts = () =>
			spy.exec(
				`CREATE TRIGGER refuse BEFORE INSERT ON oauth_states BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
			);
		const row = (key: string) =>
			spy.prepare('SELECT value, expires_at FROM oauth_states WHERE key = ?').get(key) as
				| { value: string; expires_at: number | null }
				| undefined;

		beforeEach(() => {
			dir = mkdtempSync(join(tmpdir(), 'oauth-store-encrypted-take-'));
			path = join(dir, 'oauth.db');
		});
		afterEach(() => {
			spy?.close();
			for (const each of opened.splice(0)) each.close();
			rmSync(dir, { recursive: true, force: true });
		});

		it('throws the decryption error and loses nothing when the store could not take a write', async () => {
			const inner = open();
			const expiresAt = Date.now() + TEN_MINUTES;
			await encryptStore(inner, { keys: [KEY_A] }).set('s1', state(expiresAt), { expiresAt });
			spy = openRawDatabase(path);
			const before = row('s1');
			refuseInserts();

			const retired = encryptStore(inner, { keys: [KEY_B] });
			const error = await retired.take!('s1').catch((err: unknown) => err);
			expect(error).toBeInstanceOf(StoreDecryptionError);
			expect(error).toMatchObject({ code: 'unknown_key', entryKey: 's1', keyId: 'key-a' });
			expect(row('s1')).toEqual(before);
		});

		it('throws the decryption error, saying it is lost, when an entry it took cannot be put back', async () => {
			const inner = new RacingSqliteStore({ path, table: 'oauth_states' });
			opened.push(inner);
			const store = encryptStore(inner, { keys: [KEY_A] });
			await store.set('s1', state(Date.now() + TEN_MINUTES));
			spy = openRawDatabase(path);
			// replaced by a plaintext value just before the take, and the disk fills up
			inner.beforeTake = () => {
				spy.prepare('UPDATE oauth_states SET value = ? WHERE key = ?').run('{"plain":true}', 's1');
				refuseInserts();
			};

			const error = await store.take!('s1').catch((err: unknown) => err);
			expect(error).toBeInstanceOf(StoreDecryptionError);
			expect(error).toMatchObject({ code: 'plaintext', entryKey: 's1' });
			expect((error as Error).message).toMatch(/could not be put back: it is lost/);
			expect((error as Error).cause).toMatchObject({ name: 'StoreUnavailableError' });
		});
	});
});

// the stores themselves, with a hook that runs another writer between the wrapper's read and its take
class RacingMemoryStore extends MemoryStore<string, unknown> {
	beforeTake: (() => void) | undefined;
	override take(key: string): unknown {
		this.beforeTake?.();
		return super.take(key);
	}
}

class RacingSqliteStore extends SqliteStore<string, unknown> {
	beforeTake: (() => void) | undefined;
	override async take(key: string): Promise<unknown> {
		this.beforeTake?.();
		return super.take(key);
	}
}
