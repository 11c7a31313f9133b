// rewrap() runs each entry inside the app's LockFunction, the very one its OAuthClient is given as
// `requestLock`. whatever lock the client works with, the rewrap must work with too: the client
// hands its lock a function of `length` 0 (a lock that picks a callback style by `fn.length`, as
// async-lock's `acquire` does, still works: README "Locks"), and takes the function's own outcome
// whatever the lock does with it (a lock that swallows the error, or lets go before it finished).
import type { Did } from '@atcute/lexicons';
import type { LockFunction } from '@atcute/oauth-client';
import { MemoryStore } from '@atcute/oauth-store-memory';
import { describe, expect, it } from 'vitest';

import { encryptStore } from './encrypted-store.ts';
import { RewrapAbortedError } from './errors.ts';
import { KEY_A, KEY_B, session } from './internal/test-fixtures.ts';

const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz' as Did;

/** an entry under key-a, and a store whose ring is [key-b, key-a]. */
const underOldKey = async () => {
	const inner = new MemoryStore<string, unknown>();
	await encryptStore(inner, { keys: [KEY_A] }).set(did, session(did));
	return { inner, store: encryptStore(inner, { keys: [KEY_B, KEY_A] }) };
};

/**
 * async-lock's `acquire(key, fn)`, reduced to what matters here: one holder per key at a time; a
 * `fn` that declares one parameter is called node-style with a `done(err, ret)` callback and holds
 * the lock until it calls it; any other `fn` is awaited as a promise.
 */
const asyncLockStyle = (): LockFunction => {
	const tails = new Map<string, Promise<unknown>>();
	const acquire = (key: string, fn: (...args: never[]) => unknown): Promise<unknown> => {
		const previous = tails.get(key) ?? Promise.resolve();
		const run = previous.then(
			() =>
				new Promise((resolve, reject) => {
					if (fn.length === 1) {
						(fn as (done: (err?: unknown, ret?: unknown) => void) => void)((err, ret) =>
							err ? reject(err) : resolve(ret),
						);
					} else {
						Promise.resolve()
							.then(() => (fn as () => unknown)())
							.then(resolve, reject);
					}
				}),
		);
		tails.set(
			key,
			run.catch(() => {}),
		);
		return run;
	};
	// the usual adapter: `requestLock: (name, fn) => lock.acquire(name, fn)`
	return ((name, fn) => acquire(name, fn as never)) as LockFunction;
};

/** `promise`, or 'timed out' after `ms`. */
const within = <T>(promise: Promise<T>, ms = 8_000): Promise<T | 'timed out'> =>
	Promise.race([promise, new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), ms))]);

describe('rewrap with the lock the OAuthClient works with', () => {
	it('works with a lock that picks a callback style by fn.length (async-lock), and lets it go', async () => {
		const { store } = await underOldKey();
		const lock = asyncLockStyle();
		const report = await within(store.rewrap([did], { lock }));
		expect(report).toMatchObject({ checked: 1, rewrapped: 1, failed: [] });
		expect(await store.keyIdOf(did)).toBe('key-b');
		// the session's lock is free again: the client's next refresh of this account can take it
		expect(await within(lock(`oauth-session-${did}`, async () => 'refreshed'))).toBe('refreshed');
	}, 20_000);

	it("stops at a lost hold even when the lock swallows the function's error", async () => {
		const { store } = await underOldKey();
		// a lease that ran out while the entry was read; the lock logs what its function threw and
		// returns (the OAuthClient takes the function's own outcome whatever the lock makes of it)
		const lock: LockFunction = async (_name, fn) => {
			const lost = new AbortController();
			lost.abort(new Error('lease ran out'));
			try {
				return await fn(lost.signal);
			} catch {
				return undefined as never;
			}
		};
		const error = await store.rewrap([did], { lock }).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(RewrapAbortedError);
		expect(error).toMatchObject({ key: did, transient: true, report: { rewrapped: 0 } });
		expect(await store.keyIdOf(did)).toBe('key-a');
	});

	it('stops when the lock lets go before its function finished, and writes nothing outside it', async () => {
		const { inner, store } = await underOldKey();
		// the entry's read under the lock waits until the lock has let go (a network store's read)
		const get = inner.get.bind(inner);
		let readNow!: () => void;
		const gate = new Promise<void>((resolve) => (readNow = resolve));
		let reads = 0;
		inner.get = async (key: string) => {
			if (++reads === 1) await gate;
			return get(key);
		};
		// runs the function but neither waits for it nor returns it (`fn()` without `return await`)
		let visiting: Promise<unknown> | undefined;
		const lock: LockFunction = async (_name, fn) => {
			visiting = fn().catch(() => {});
			return undefined as never;
		};
		const error = await store.rewrap([did], { lock }).catch((err: unknown) => err);
		expect(error).toBeInstanceOf(RewrapAbortedError);
		expect((error as RewrapAbortedError).cause).toBeInstanceOf(TypeError);
		expect(error).toMatchObject({ key: did, transient: false });
		// the visit goes on once its read answers, and ends: it wrote nothing, outside any lock (it
		// could overwrite a refresh stored meanwhile with spent tokens)
		readNow();
		await visiting;
		expect(await store.keyIdOf(did)).toBe('key-a');
	});
});
