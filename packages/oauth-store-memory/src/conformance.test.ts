import { describeStore } from '@atcute-oauth/store-conformance';

import { MemoryStore } from './memory-store.ts';

// in-process only: there is no second handle on the same data
describeStore(
	'MemoryStore',
	async () => ({
		store: new MemoryStore(),
		cleanup: async () => {},
	}),
	{ atomicTake: true, expiry: true },
);

describeStore(
	'MemoryStore (compact)',
	async () => ({
		store: new MemoryStore({ compact: true }),
		cleanup: async () => {},
	}),
	{ atomicTake: true, expiry: true },
);
