// rewrap's arguments are checked before anything is read or locked: a mistake must be a
// TypeError at the call, never a report of a rewrap that did nothing, nor a RewrapAbortedError.
import type { Did } from '@atcute/lexicons';
import type { LockFunction } from '@atcute/oauth-client';
import { MemoryStore } from '@atcute/oauth-store-memory';
import { describe, expect, it } from 'vitest';

import { encryptStore } from './encrypted-store.ts';
import { KEY_A, KEY_B, session } from './internal/test-fixtures.ts';

const dids = Array.from({ length: 3 }, (_, i) => `did:plc:user${i}` as Did);

/** a store with every did under key-a, read through key-b first, that counts what it is asked. */
const setup = async () => {
	const calls: string[] = [];
	const inner = new (class extends MemoryStore<string, unknown> {
		override get(key: string): unknown {
			calls.push(`get ${key}`);
			return super.get(key);
		}
		override set(key: string, value: unknown, options?: { expiresAt?: number }): void {
			calls.push(`set ${key}`);
			super.set(key, value, options);
		}
	})();
	const old = encryptStore(inner, { keys: [KEY_A] });
	for (const did of dids) await old.set(did, session(did));
	calls.length = 0;
	const lock: LockFunction = async (name, fn) => {
		calls.push(`lock ${name}`);
		return fn();
	};
	return { calls, lock, store: encryptStore(inner, { keys: [KEY_B, KEY_A] }) };
};

/** the rejection of `promise`, which must be a TypeError (not a RewrapAbortedError). */
const refused = async (promise: Promise<unknown>): Promise<TypeError> => {
	const error = await promise.then(
		() => undefined,
		(err: unknown) => err,
	);
	expect(error).toBeInstanceOf(TypeError);
	expect((error as Error).name).toBe('TypeError');
	return error as TypeError;
};

describe('EncryptedStore.rewrap arguments', () => {
	it('refuses a string as the keys, rather than visiting each of its characters', async () => {
		const { calls, lock, store } = await setup();
		// @ts-expect-error a string is an iterable of strings, but not of entry keys
		const error = await refused(store.rewrap(dids[0]!, { lock }));
		expect(error.message).toBe(
			'rewrap(keys) expects an iterable of entry keys, got a string: wrap it in an array',
		);
		// the message never holds the key itself
		expect(error.message).not.toContain(dids[0]);
		expect(calls).toEqual([]);
	});

	it('refuses keys that are not iterable, naming what it got', async () => {
		const { calls, lock, store } = await setup();
		for (const [keys, got] of [
			[undefined, 'undefined'],
			[null, 'null'],
			[5, 'a number'],
			[{ 0: dids[0] }, 'an object'],
		] as const) {
			const error = await refused(store.rewrap(keys as never, { lock }));
			expect(error.message).toBe(`rewrap(keys) expects an iterable of entry keys, got ${got}`);
		}
		expect(calls).toEqual([]);
	});

	it('refuses a dryRun that is not a boolean, rather than running a dry run', async () => {
		const { calls, lock, store } = await setup();
		// as read from an environment variable: truthy, so it used to run a dry run
		const error = await refused(store.rewrap(dids, { lock, dryRun: 'false' as never }));
		expect(error.message).toBe('dryRun must be a boolean, got a string');
		await refused(store.rewrap(dids, { lock, dryRun: 0 as never }));
		expect(calls).toEqual([]);
	});

	it('refuses a lockName that is not a function before taking any lock', async () => {
		const { calls, lock, store } = await setup();
		const error = await refused(store.rewrap(dids, { lock, lockName: 'oauth-session' as never }));
		expect(error.message).toBe('lockName must be a function (key) => string, got a string');
		// even on a dry run, which takes no lock: the same options would fail the run that writes
		await refused(store.rewrap(dids, { dryRun: true, lockName: 5 as never }));
		expect(calls).toEqual([]);
	});

	it('refuses options that are not an object', async () => {
		const { calls, store } = await setup();
		const error = await refused(store.rewrap(dids, null as never));
		expect(error.message).toBe('rewrap(keys, options) expects options to be an object, got null');
		await refused(store.rewrap(dids, 'dryRun' as never));
		expect(calls).toEqual([]);
	});

	it('takes any iterable or async iterable of keys, and no options for a dry run', async () => {
		const { lock, store } = await setup();
		expect(await store.rewrap(new Set(dids), { dryRun: true })).toMatchObject({ checked: 3 });
		const generate = async function* () {
			yield* dids;
		};
		expect(await store.rewrap(generate(), { lock, dryRun: false })).toMatchObject({
			checked: 3,
			rewrapped: 3,
		});
		await expect(store.rewrap(dids)).rejects.toThrow(/lock is required/);
	});
});
