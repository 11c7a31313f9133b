import type { Did } from '@atcute/lexicons';
import { createMemoryLock, type Store } from '@atcute/oauth-client';
import { describe, expect, it } from 'vitest';

import { encryptStore } from './encrypted-store.ts';
import { StoreDecryptionError } from './errors.ts';
import { KEY_A, session } from './internal/test-fixtures.ts';

/** a value nested deeper than a recursive copy or JSON.stringify can walk. */
const deeplyNested = (): unknown => {
	let value: unknown = {};
	for (let depth = 0; depth < 20_000; depth++) value = { value };
	return value;
};

/** a store of the app's own that hands back what it holds, as it is. */
const mapStore = (): Store<string, unknown> & { entries: Map<string, unknown> } => {
	const entries = new Map<string, unknown>();
	return {
		entries,
		get: async (key) => entries.get(key),
		set: async (key, value) => {
			entries.set(key, value);
		},
		delete: async (key) => {
			entries.delete(key);
		},
		clear: async () => entries.clear(),
	};
};

const odd: [string, () => unknown][] = [
	['nested deeper than a copy can walk', deeplyNested],
	['holding a bigint', () => ({ n: 1n })],
];

// with allowPlaintext, the README says a plaintext entry the rewrap cannot take is reported in
// `failed` and left as it is: one such entry must not stop every run at the same place
describe('encryptStore with allowPlaintext, on a plaintext entry it cannot copy or write as JSON', () => {
	for (const [label, make] of odd) {
		it(`reports an entry ${label} as failed, leaves it, and rewraps the rest`, async () => {
			const inner = mapStore();
			const bad = 'did:plc:bad' as Did;
			const good = 'did:plc:good' as Did;
			const value = make();
			inner.entries.set(bad, value);
			inner.entries.set(good, session(good));
			const store = encryptStore(inner, { keys: [KEY_A], allowPlaintext: true });

			const report = await store.rewrap([bad, good], { lock: createMemoryLock() });
			expect(report).toMatchObject({ checked: 2, plaintext: 2, rewrapped: 1 });
			expect(report.failed).toHaveLength(1);
			expect(report.failed[0]!.key).toBe(bad);
			expect(report.failed[0]!.error).toBeInstanceOf(StoreDecryptionError);
			expect(report.failed[0]!.error).toMatchObject({ code: 'malformed', entryKey: bad });
			expect(inner.entries.get(bad)).toBe(value);
			expect(await store.keyIdOf(good)).toBe(KEY_A.id);
		});

		it(`fails a get() of an entry ${label} with a StoreDecryptionError naming it`, async () => {
			const inner = mapStore();
			inner.entries.set('did:plc:bad', make());
			const store = encryptStore(inner, { keys: [KEY_A], allowPlaintext: true });
			const outcome = await store.get('did:plc:bad').then(
				() => 'read',
				(err: unknown) => err,
			);
			expect(outcome).toBeInstanceOf(StoreDecryptionError);
			expect(outcome).toMatchObject({ code: 'malformed', entryKey: 'did:plc:bad' });
		});
	}
});
