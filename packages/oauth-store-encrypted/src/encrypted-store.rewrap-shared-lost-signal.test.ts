// rewrap() runs each entry inside the app's LockFunction, which may give every holding the same
// `lost` signal (one tied to its connection, or the app's shutdown signal): a rewrap of many
// entries must leave nothing on it once it is over
import { getEventListeners } from 'node:events';

import type { Did } from '@atcute/lexicons';
import type { LockFunction } from '@atcute/oauth-client';
import { MemoryStore } from '@atcute/oauth-store-memory';
import { describe, expect, it } from 'vitest';

import { encryptStore } from './encrypted-store.ts';
import { KEY_A, KEY_B, session } from './internal/test-fixtures.ts';

describe('rewrap with a lock that gives every holding the same lost signal', () => {
	it('holds no listener on it once every entry is done', async () => {
		const inner = new MemoryStore<string, unknown>();
		const old = encryptStore(inner, { keys: [KEY_A] });
		const dids: Did[] = [];
		for (let i = 0; i < 20; i++) {
			const did = `did:plc:${String(i).padStart(24, 'a')}` as Did;
			dids.push(did);
			await old.set(did, session(did));
		}
		const lost = new AbortController().signal;
		const lock: LockFunction = (_name, fn) => fn(lost);
		const report = await encryptStore(inner, { keys: [KEY_B, KEY_A] }).rewrap(dids, { lock });
		expect(report).toMatchObject({ checked: 20, rewrapped: 20, failed: [] });
		expect(getEventListeners(lost, 'abort')).toHaveLength(0);
	});
});
