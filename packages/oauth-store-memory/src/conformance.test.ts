import { describeStore } from '@atcute-oauth/store-conformance';

import { compactCodec } from './compact-codec.ts';
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
	'MemoryStore (compactCodec)',
	async () => ({
		store: new MemoryStore({ codec: compactCodec }),
		cleanup: async () => {},
	}),
	{ atomicTake: true, expiry: true },
);
