import type { Store } from '@atcute/oauth-client';
import { describe, expect, it, vi } from 'vitest';

import { encryptStore } from './encrypted-store.ts';
import { KEY_A, session } from './internal/test-fixtures.ts';

/** a store that checks nothing, as an app's own may not: whatever set is given, it keeps. */
const lenientStore = () => {
	const entries = new Map<string, unknown>();
	const store: Store<string, unknown> = {
		get: (key) => entries.get(key),
		set: vi.fn((key: string, value: unknown) => {
			entries.set(key, value);
		}),
		delete: (key) => {
			entries.delete(key);
		},
		clear: () => entries.clear(),
	};
	return { entries, store };
};

// every store of this project refuses set options that are not an object (set-options-object):
// the wrapper refuses them too, itself, before anything is encrypted or written
describe('encryptStore set: options that are not an object', () => {
	it.each([
		['an expiry on its own', Date.now() + 60_000, 'number'],
		['a string', 'soon', 'string'],
		['null', null, 'null'],
	])('refuses %s with a TypeError, storing nothing', async (_label, options, got) => {
		const { entries, store: inner } = lenientStore();
		const store = encryptStore(inner, { keys: [KEY_A] });

		const error = await store.set('did:plc:alice', session(), options as never).catch((err) => err);

		expect(error).toBeInstanceOf(TypeError);
		expect(error.message).toBe(`set(key, value, options) expects options such as { expiresAt }, got ${got}`);
		expect(inner.set).not.toHaveBeenCalled();
		expect(entries.size).toBe(0);
	});

	it('takes no options, and { expiresAt }', async () => {
		const { entries, store: inner } = lenientStore();
		const store = encryptStore(inner, { keys: [KEY_A] });
		await store.set('a', session());
		await store.set('b', session(), { expiresAt: Date.now() + 60_000 });
		expect(entries.size).toBe(2);
	});
});
