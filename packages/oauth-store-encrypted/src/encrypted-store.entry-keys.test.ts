// entry keys that are not well-formed UTF-16: the AAD holds the key as UTF-8, where every lone
// surrogate becomes U+FFFD, so two such keys could not be told apart. they are refused.
import { createMemoryLock } from '@atcute/oauth-client';
import { MemoryStore } from '@atcute/oauth-store-memory';
import { describe, expect, it } from 'vitest';

import { encryptStore } from './encrypted-store.ts';
import { RewrapAbortedError } from './errors.ts';
import { KEY_A } from './internal/test-fixtures.ts';

const LONE = 'did:plc:a\uD800';
const OTHER = 'did:plc:a\uDBFF';

const setup = () => {
	const inner = new MemoryStore<string, unknown>();
	return { inner, store: encryptStore(inner, { keys: [KEY_A], cacheSize: 0 }) };
};

describe('entry keys with a lone surrogate', () => {
	it('are refused by set, get and take, with the key escaped in the message', async () => {
		const { store } = setup();
		const refusal = expect.objectContaining({
			name: 'TypeError',
			message: expect.stringContaining('"did:plc:a\\uD800"'),
		});
		await expect(store.set(LONE, { n: 1 })).rejects.toEqual(refusal);
		await expect(store.get(LONE)).rejects.toEqual(refusal);
		await expect(store.take!(LONE)).rejects.toEqual(refusal);
	});

	it('never read a ciphertext copied from another such key', async () => {
		const { inner, store } = setup();
		// written by a version that took such keys
		await store.set('did:plc:a\uFFFD', { owner: 'someone else' });
		inner.set(OTHER, inner.get('did:plc:a\uFFFD'));
		await expect(store.get(OTHER)).rejects.toThrow(TypeError);
	});

	it('stop a rewrap, which says where', async () => {
		const { store } = setup();
		const error = await store.rewrap(['did:plc:ok', LONE], { lock: createMemoryLock() }).catch((err) => err);
		expect(error).toBeInstanceOf(RewrapAbortedError);
		expect(error).toMatchObject({ key: LONE, report: { checked: 2, missing: 1 } });
		expect(error.cause).toBeInstanceOf(TypeError);
		// the same call would fail the same way: not worth a retry
		expect(error.transient).toBe(false);
	});

	it('leave keys with paired surrogates alone', async () => {
		const { store } = setup();
		await store.set('state-\u{1F600}', { n: 1 });
		expect(await store.get('state-\u{1F600}')).toEqual({ n: 1 });
	});
});
