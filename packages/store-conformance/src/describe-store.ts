import type { Store } from '@atcute/oauth-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { roundTripValues, sleep, unusualKeys } from './fixtures.ts';

/** one store under test, fresh and empty for each test. */
export interface StoreHarness {
	/** the store, empty. */
	store: Store<string, unknown>;
	/** a second handle on the same data (another process/connection), when the adapter has one. */
	reopen?: () => Promise<Store<string, unknown>>;
	/** closes what the harness opened (handles from `reopen` included) and removes its data. */
	cleanup: () => Promise<void>;
}

/** what an adapter promises beyond get/set/delete/clear. */
export interface StoreCapabilities {
	/** the adapter implements take() atomically. */
	atomicTake: boolean;
	/** it honours set()'s expiresAt (TTL). */
	expiry: boolean;
}

/** how far ahead the expiry tests set `expiresAt`, in milliseconds: short, so the suite stays fast. */
const SHORT_TTL_MS = 300;
/** how long past `expiresAt` they look again: room for timer and clock granularity. */
const EXPIRY_SLACK_MS = 150;

/** the title of the suite, naming every capability it leaves out. */
const suiteTitle = (name: string, capabilities: StoreCapabilities): string => {
	const missing = [
		capabilities.atomicTake ? undefined : 'no atomic take',
		capabilities.expiry ? undefined : 'no expiry',
	].filter((entry) => entry !== undefined);
	return `${name} (store conformance${missing.length > 0 ? `; ${missing.join(', ')}` : ''})`;
};

/** a value for writer `i` whose every part names `i`, so a torn or mixed write is visible. */
const writerValue = (i: number) => ({ writer: i, payload: String(i % 10).repeat(8 * 1024), tail: i });

/**
 * registers the store conformance suite: what every `Store` adapter must do for the OAuth client
 * (upserts, exact JSON round trips, keys taken literally, concurrent writers) and, per capability,
 * expiry and an atomic `take`. a capability set to false leaves its tests out (the title says so).
 * `create` is called before each test and must give an empty store.
 */
export const describeStore = (
	name: string,
	create: () => Promise<StoreHarness>,
	capabilities: StoreCapabilities,
): void => {
	describe(suiteTitle(name, capabilities), () => {
		let harness: StoreHarness;
		let store: Store<string, unknown>;

		beforeEach(async () => {
			harness = await create();
			store = harness.store;
		});
		afterEach(async () => {
			await harness.cleanup();
		});

		/** the second handle, or the same one when the adapter has no other. */
		const secondHandle = async (): Promise<Store<string, unknown>> =>
			harness.reopen === undefined ? store : harness.reopen();

		describe('get, set, delete, clear', () => {
			it('returns undefined for a key that was never set', async () => {
				expect(await store.get('missing')).toBeUndefined();
			});

			it('gets what was set', async () => {
				await store.set('a', { n: 1 });
				expect(await store.get('a')).toEqual({ n: 1 });
			});

			it('replaces the value on a second set (an upsert, never an insert)', async () => {
				await store.set('a', { refresh_token: 'old' });
				await store.set('a', { refresh_token: 'new' });
				expect(await store.get('a')).toEqual({ refresh_token: 'new' });
			});

			it('replaces a value with one of another shape', async () => {
				await store.set('a', { long: 'x'.repeat(1000), extra: [1, 2, 3] });
				await store.set('a', 'short');
				expect(await store.get('a')).toBe('short');
			});

			it('deletes a key and leaves the others', async () => {
				await store.set('a', 1);
				await store.set('b', 2);
				await store.delete('a');
				expect(await store.get('a')).toBeUndefined();
				expect(await store.get('b')).toBe(2);
			});

			it('deletes a missing key without an error', async () => {
				await store.delete('missing');
				await store.set('a', 1);
				await store.delete('a');
				await store.delete('a');
				expect(await store.get('a')).toBeUndefined();
			});

			it('sets a key again after it was deleted', async () => {
				await store.set('a', 1);
				await store.delete('a');
				await store.set('a', 2);
				expect(await store.get('a')).toBe(2);
			});

			it('clears every entry, and takes new ones after', async () => {
				for (let i = 0; i < 10; i++) await store.set(`k${i}`, i);
				await store.clear();
				for (let i = 0; i < 10; i++) expect(await store.get(`k${i}`)).toBeUndefined();
				await store.set('k0', 'again');
				expect(await store.get('k0')).toBe('again');
			});
		});

		describe('values', () => {
			it.each(roundTripValues)('round-trips %s exactly', async (_label, value) => {
				await store.set('value', value);
				const got = await store.get('value');
				expect(got).toStrictEqual(value);
				// same content in the same order: what a JSON round trip keeps
				expect(JSON.stringify(got)).toBe(JSON.stringify(value));
			});

			it('keeps values of different keys apart', async () => {
				await Promise.all(roundTripValues.map(([label, value]) => store.set(label, value)));
				for (const [label, value] of roundTripValues) {
					expect(await store.get(label)).toStrictEqual(value);
				}
			});
		});

		describe('keys', () => {
			it('keeps keys with unusual characters apart', async () => {
				for (const [i, key] of unusualKeys.entries()) await store.set(key, { i });
				for (const [i, key] of unusualKeys.entries()) expect(await store.get(key)).toEqual({ i });
			});

			it('takes pattern characters literally on get', async () => {
				await store.set('did:plc:abc', 1);
				for (const pattern of ['*', 'did:*', 'did:plc:ab?', 'did:plc:[a]bc', 'did:plc:%', 'did:plc:ab_']) {
					expect(await store.get(pattern)).toBeUndefined();
				}
			});

			it('keeps keys apart that differ only in case, a trailing space, Unicode normalisation or their last character', async () => {
				// what a case-insensitive collation, a trim, a normalising driver or a cut key would merge
				const pairs = [
					['Did:plc:Key', 'did:plc:key'],
					['did:plc:k', 'did:plc:k '],
					['caf\u00e9', 'cafe\u0301'],
					[`${'k'.repeat(2047)}a`, `${'k'.repeat(2047)}b`],
				];
				for (const [i, [a, b]] of pairs.entries()) {
					await store.set(a!, { i, side: 'a' });
					await store.set(b!, { i, side: 'b' });
				}
				for (const [i, [a, b]] of pairs.entries()) {
					expect(await store.get(a!), a).toEqual({ i, side: 'a' });
					expect(await store.get(b!), b).toEqual({ i, side: 'b' });
				}
			});

			it('deletes only its key, not the keys it is a prefix of', async () => {
				await store.set('did:plc:ab', 1);
				await store.set('did:plc:abc', 2);
				await store.delete('did:plc:ab');
				expect(await store.get('did:plc:ab')).toBeUndefined();
				expect(await store.get('did:plc:abc')).toBe(2);
			});

			it('takes pattern characters literally on delete', async () => {
				await store.set('did:plc:abc', 1);
				await store.set('a*', 2);
				for (const pattern of ['*', 'did:*', 'did:plc:ab?', '[a-z]*', '%', '_', 'a*']) {
					await store.delete(pattern);
				}
				expect(await store.get('did:plc:abc')).toBe(1);
				expect(await store.get('a*')).toBeUndefined();
			});
		});

		if (capabilities.expiry) {
			describe('expiry', () => {
				// an expiry passed on its own would read as no options, and the entry be kept for ever
				it('refuses set options that are not an object, storing nothing', async () => {
					const setWith = (options: unknown) =>
						Promise.resolve().then(() => store.set('a', 1, options as never));
					await expect(setWith(Date.now() + 60_000)).rejects.toThrow(TypeError);
					await expect(setWith('soon')).rejects.toThrow(TypeError);
					expect(await store.get('a')).toBeUndefined();
				});

				// every expiry case on keys of its own, set up first, then checked after one shared wait:
				// each case alone sleeps past its expiresAt, and one after another they took 4.75 s a store.
				// expect.soft reports every case that fails, each by name, not only the first
				it('honours expiresAt in every case, the cases sharing one wait', async () => {
					/**
					 * sets `key` to expire `ttl` ms from now; resolves with when it must be gone by: its
					 * expiresAt plus how long the set took, as a store that turns expiresAt into a TTL (Redis'
					 * PX) starts it when the command arrives, which on a loaded machine is late
					 */
					const setExpiring = async (key: string, value: unknown, ttl = SHORT_TTL_MS) => {
						const startedAt = Date.now();
						const expiresAt = startedAt + ttl;
						await store.set(key, value, { expiresAt });
						return { expiresAt, goneBy: expiresAt + (Date.now() - startedAt) };
					};

					// forgets an entry once its expiresAt has passed
					const forgets = await setExpiring('forgets', { n: 1 });
					const forgetsBefore = await store.get('forgets');
					// a read that was answered before the expiry must find it; a loaded machine may stall
					// past 300 ms between the write and the read, and then it may rightly be gone
					if (Date.now() < forgets.expiresAt) {
						expect
							.soft(forgetsBefore, 'forgets an entry once its expiresAt has passed: read before')
							.toEqual({ n: 1 });
					}

					// keeps an entry set without expiresAt (beside one that expires)
					await store.set('forever', 1);
					const brief = await setExpiring('brief', 2);

					// keeps an entry whose expiresAt is far ahead (looked at as long after as the others)
					await store.set('far', 1, { expiresAt: Date.now() + 365 * 24 * 60 * 60 * 1000 });
					const farLookedAt = Date.now() + SHORT_TTL_MS;

					// extends an entry re-set with a later expiresAt
					const extended = await setExpiring('extended', 1);
					await store.set('extended', 2, { expiresAt: Date.now() + 60_000 });

					// a session re-set on refresh must not inherit an older, shorter life (R14)
					const reset = await setExpiring('reset', 1);
					await store.set('reset', 2);

					// does not hand out an expired entry through take
					const state = capabilities.atomicTake ? await setExpiring('state', 1) : undefined;

					// a store may drop an entry at its expiresAt, never earlier (a state would be gone
					// before its callback came); a second-granular TTL rounded down would show here.
					// 1.9 s ahead, looked at 0.25 s before: past the whole second a TTL rounded down would end at
					const until = await setExpiring('until', { n: 1 }, 1_900);

					// the short cases, once the last of them must be gone
					const shortCases = [forgets, brief, extended, reset, ...(state ? [state] : [])];
					const lastGoneBy = Math.max(farLookedAt, ...shortCases.map(({ goneBy }) => goneBy));
					await sleep(lastGoneBy - Date.now() + EXPIRY_SLACK_MS);
					expect
						.soft(await store.get('forgets'), 'forgets an entry once its expiresAt has passed')
						.toBeUndefined();
					expect.soft(await store.get('forever'), 'keeps an entry set without expiresAt').toBe(1);
					expect
						.soft(await store.get('brief'), 'keeps an entry set without expiresAt: the brief one')
						.toBeUndefined();
					expect.soft(await store.get('far'), 'keeps an entry whose expiresAt is far ahead').toBe(1);
					expect.soft(await store.get('extended'), 'extends an entry re-set with a later expiresAt').toBe(2);
					expect.soft(await store.get('reset'), 'keeps an entry re-set without expiresAt for good').toBe(2);
					if (capabilities.atomicTake) {
						expect
							.soft(await store.take?.('state'), 'does not hand out an expired entry through take')
							.toBeUndefined();
					}

					// keeps an entry until its expiresAt, and an entry without one after it
					await sleep(until.expiresAt - Date.now() - 250);
					const untilBefore = await store.get('until');
					// as above: only a read answered before the expiry must find it (the short cases' checks
					// ran first, and a loaded machine may stall through the 250 ms)
					if (Date.now() < until.expiresAt) {
						expect.soft(untilBefore, 'keeps an entry until its expiresAt').toEqual({ n: 1 });
					}
					await sleep(until.goneBy - Date.now() + EXPIRY_SLACK_MS);
					expect.soft(await store.get('until'), 'forgets it once its expiresAt has passed').toBeUndefined();
					expect.soft(await store.get('forever'), 'and keeps an entry without one after it').toBe(1);
				});
			});
		}

		if (capabilities.atomicTake) {
			describe('take', () => {
				it('implements take', () => {
					expect(typeof store.take).toBe('function');
				});

				it('returns the value once, then undefined, and removes it', async () => {
					await store.set('state', { verifier: 'v' });
					expect(await store.take!('state')).toEqual({ verifier: 'v' });
					expect(await store.take!('state')).toBeUndefined();
					expect(await store.get('state')).toBeUndefined();
				});

				it('returns undefined for a missing key', async () => {
					expect(await store.take!('missing')).toBeUndefined();
				});

				it('takes only its own key', async () => {
					await store.set('a', 1);
					await store.set('b', 2);
					expect(await store.take!('a')).toBe(1);
					expect(await store.get('b')).toBe(2);
				});

				it('gives the value to exactly one of 20 concurrent takes', async () => {
					await store.set('state', { verifier: 'v' });
					const results = await Promise.all(Array.from({ length: 20 }, () => store.take!('state')));
					expect(results.filter((result) => result !== undefined)).toEqual([{ verifier: 'v' }]);
				});

				it('gives the value to exactly one take across two handles (the same one when there is no second)', async () => {
					const other = await secondHandle();
					for (let round = 0; round < 5; round++) {
						const key = `state-${round}`;
						await store.set(key, { round });
						const results = await Promise.all(
							Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : other).take!(key)),
						);
						expect(results.filter((result) => result !== undefined)).toEqual([{ round }]);
					}
				});
			});
		}

		describe('concurrent writers', () => {
			it('ends 50 concurrent sets of one key with one written value, intact', async () => {
				const written = Array.from({ length: 50 }, (_, i) => writerValue(i));
				await Promise.all(written.map((value) => store.set('session', value)));
				const got = (await store.get('session')) as ReturnType<typeof writerValue>;
				expect(got).toStrictEqual(written[got.writer]);
			});

			it('keeps all of 100 concurrent sets of different keys', async () => {
				await Promise.all(Array.from({ length: 100 }, (_, i) => store.set(`key-${i}`, { i })));
				const got = await Promise.all(Array.from({ length: 100 }, (_, i) => store.get(`key-${i}`)));
				expect(got).toEqual(Array.from({ length: 100 }, (_, i) => ({ i })));
			});

			it('ends concurrent sets through two handles with one written value, intact (the same handle when there is no second)', async () => {
				const other = await secondHandle();
				const written = Array.from({ length: 50 }, (_, i) => writerValue(i));
				await Promise.all(written.map((value, i) => (i % 2 === 0 ? store : other).set('session', value)));
				const seen = [];
				for (const handle of [store, other]) {
					const got = (await handle.get('session')) as ReturnType<typeof writerValue>;
					expect(got).toStrictEqual(written[got.writer]);
					seen.push(got);
				}
				// and both handles agree on which one it was
				expect(seen[0]).toStrictEqual(seen[1]);
			});
		});

		describe('handles', () => {
			it('reads through one handle what was written through another (the same one when there is no second)', async () => {
				const other = await secondHandle();
				await store.set('a', { from: 'first' });
				expect(await other.get('a')).toEqual({ from: 'first' });
				await other.set('a', { from: 'second' });
				expect(await store.get('a')).toEqual({ from: 'second' });
				await other.delete('a');
				expect(await store.get('a')).toBeUndefined();
			});
		});
	});
};
