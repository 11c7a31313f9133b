// a rewrap that another error stops halfway (the store, the lock, onProgress): it rejects with a
// RewrapAbortedError that keeps the report so far.
import type { Did } from '@atcute/lexicons';
import { createMemoryLock, type LockFunction } from '@atcute/oauth-client';
import { MemoryStore } from '@atcute/oauth-store-memory';
import { describe, expect, it } from 'vitest';

import { encryptStore } from './encrypted-store.ts';
import { RewrapAbortedError } from './errors.ts';
import { RewrapAbortedError as Exported } from './index.ts';
import { KEY_A, KEY_B, SECRETS, session } from './internal/test-fixtures.ts';
import type { RewrapReport } from './rewrap-options.ts';

const dids = Array.from({ length: 6 }, (_, i) => `did:plc:user${i}` as Did);

/** a memory store with every did under key-a, whose reads of `broken` fail. */
const populated = async (broken: string) => {
	const inner = new (class extends MemoryStore<string, unknown> {
		override get(key: string): unknown {
			if (key === broken) throw new Error('ECONNRESET (store unavailable)');
			return super.get(key);
		}
	})();
	const old = encryptStore(inner, { keys: [KEY_A] });
	for (const did of dids) if (did !== broken) await old.set(did, session(did));
	return { inner, store: encryptStore(inner, { keys: [KEY_B, KEY_A] }) };
};

/** the rejection of `promise`, which must be a RewrapAbortedError. */
const aborted = async (promise: Promise<unknown>): Promise<RewrapAbortedError<Did>> => {
	const error = await promise.then(
		() => undefined,
		(err: unknown) => err,
	);
	expect(error).toBeInstanceOf(RewrapAbortedError);
	return error as RewrapAbortedError<Did>;
};

describe('EncryptedStore.rewrap, stopped halfway', () => {
	it('stops at a key that is not a string, rather than counting it missing', async () => {
		const { inner, store } = await populated('none');
		// rows where their keys belong (a SQL query without .pluck()): a store keyed by strings
		// would find no entry under each, and the rewrap would report itself done
		const rows = dids.map((key) => ({ key }));
		const error = await aborted(store.rewrap(rows as never, { lock: createMemoryLock() }));
		expect(error.cause).toBeInstanceOf(TypeError);
		expect((error.cause as Error).message).toBe('keys must yield strings (entry keys), got an object');
		expect(error.transient).toBe(false);
		expect(error.report).toMatchObject({ checked: 1, missing: 0, rewrapped: 0 });
		expect(await store.keyIdOf(dids[0]!)).toBe('key-a');
		expect(inner.size).toBe(dids.length);
	});

	it('never quotes or keeps a row that is not a string: it holds the session in plaintext', async () => {
		const { store } = await populated('none');
		// the plaintext migration's rows (SELECT key, value without .pluck()): tokens and DPoP key
		const rows = dids.map((key) => ({ key, value: JSON.stringify(session(key)) }));
		const error = await aborted(store.rewrap(rows as never, { lock: createMemoryLock() }));
		const seen = `${error.message} ${JSON.stringify(error)} ${String(error.stack)}`;
		for (const secret of Object.values(SECRETS)) expect(seen).not.toContain(secret);
		expect(error.key).toBeUndefined();
		expect(error.message).toBe(
			'rewrap stopped at an object where an entry key belongs (key 1, 0 rewritten so far): keys must yield strings (entry keys), got an object',
		);
		expect(error.transient).toBe(false);
	});

	it.each([
		['a bigint', 12345678901234567890n],
		['a symbol', Symbol('did:plc:user0')],
	])('stops at %s where a key belongs with a RewrapAbortedError naming its type', async (type, key) => {
		const { store } = await populated('none');
		for (const dryRun of [true, false]) {
			const error = await aborted(
				store.rewrap([dids[0], key] as never, { lock: createMemoryLock(), dryRun }),
			);
			expect(error.message).toBe(
				`rewrap stopped at ${type} where an entry key belongs (key 2, ${dryRun ? 0 : 1} rewritten so far): keys must yield strings (entry keys), got ${type}`,
			);
			expect(error.key).toBeUndefined();
			expect(error.report).toMatchObject({ checked: 2 });
		}
	});

	it('stops at the first entry when the lock returns without running its function', async () => {
		const { store } = await populated('none');
		// a placeholder lock, copied as it stands: the rewrap would report success, rewriting nothing
		const lock: LockFunction = (async () => {}) as never;
		const error = await aborted(store.rewrap(dids, { lock }));
		expect(error.cause).toBeInstanceOf(TypeError);
		expect((error.cause as Error).message).toContain('the lock returned without running the function');
		expect(error).toMatchObject({ key: dids[0], transient: false, report: { checked: 1, rewrapped: 0 } });
		for (const did of dids) expect(await store.keyIdOf(did)).toBe('key-a');
	});

	it('rejects with the entry it stopped at, the cause and the report so far', async () => {
		const { store } = await populated(dids[3]!);
		const error = await aborted(store.rewrap(dids, { lock: createMemoryLock() }));
		expect(error).toBeInstanceOf(Exported);
		expect(error.name).toBe('RewrapAbortedError');
		expect(error.key).toBe(dids[3]);
		expect((error.cause as Error).message).toBe('ECONNRESET (store unavailable)');
		expect(error.transient).toBe(true);
		expect(error.report).toMatchObject({ checked: 4, byKeyId: { 'key-a': 3 }, rewrapped: 3, failed: [] });
		expect(error.message).toContain(JSON.stringify(dids[3]));
		expect(error.message).toContain('ECONNRESET (store unavailable)');
		expect(error.message).not.toContain(SECRETS.accessToken);
		expect(error.message).not.toContain(KEY_B.secret);
		// what it did stays done, and a second run carries on from there
		for (const did of dids.slice(0, 3)) expect(await store.keyIdOf(did)).toBe('key-b');
		expect(await store.keyIdOf(dids[4]!)).toBe('key-a');
	});

	it("copies the cause's transient, as a lock that timed out or was closed says it", async () => {
		const { store } = await populated('none');
		const closed = Object.assign(new Error('the lock is closed'), { transient: false });
		const lock: LockFunction = async () => {
			throw closed;
		};
		const error = await aborted(store.rewrap(dids, { lock }));
		expect(error).toMatchObject({ key: dids[0], cause: closed, transient: false });
		expect(error.report).toMatchObject({ checked: 1, rewrapped: 0 });
	});

	it('says where it stopped when the keys themselves fail, with key undefined', async () => {
		const { store } = await populated('none');
		async function* listing() {
			yield dids[0]!;
			throw new Error('SCAN failed');
		}
		const error = await aborted(store.rewrap(listing(), { lock: createMemoryLock() }));
		expect(error.key).toBeUndefined();
		expect(error.report).toMatchObject({ checked: 1, rewrapped: 1 });
		expect(error.message).toContain('SCAN failed');
	});
});

describe('EncryptedStore.rewrap onProgress', () => {
	it('is called after each key with the report so far', async () => {
		const { store } = await populated('none');
		const seen: Array<Pick<RewrapReport<Did>, 'checked' | 'rewrapped'>> = [];
		const report = await store.rewrap(dids.slice(0, 3), {
			lock: createMemoryLock(),
			onProgress: ({ checked, rewrapped }) => seen.push({ checked, rewrapped }),
		});
		expect(seen).toEqual([
			{ checked: 1, rewrapped: 1 },
			{ checked: 2, rewrapped: 2 },
			{ checked: 3, rewrapped: 3 },
		]);
		expect(report.rewrapped).toBe(3);
	});

	it('ends the rewrap when it throws, as any other error', async () => {
		const { store } = await populated('none');
		const stop = new Error('stop here');
		const error = await aborted(
			store.rewrap(dids, {
				dryRun: true,
				onProgress: (report) => {
					if (report.checked === 2) throw stop;
				},
			}),
		);
		expect(error).toMatchObject({ key: dids[1], cause: stop, report: { checked: 2 } });
	});

	it('must be a function', async () => {
		const { store } = await populated('none');
		await expect(store.rewrap(dids, { dryRun: true, onProgress: 'log' as never })).rejects.toThrow(TypeError);
	});
});
