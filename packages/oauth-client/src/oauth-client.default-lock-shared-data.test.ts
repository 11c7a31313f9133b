import { afterAll, beforeAll, describe, it } from 'vitest';

import type { SessionStore, StoredSession } from './stored-types.ts';
import { MapStore } from './test-utils/map-store.ts';
import { refreshAtOnce } from './test-utils/refresh-at-once.ts';
import { startTestOAuthServer, type TestOAuthServer } from './test-utils/setup.ts';

/** a store object of the app's own over `backing`'s data: nothing on it says what it wraps. */
const wrapperOf = (backing: MapStore<StoredSession>): SessionStore => ({
	get: (key) => backing.get(key),
	set: (key, value) => backing.set(key, value),
	delete: (key) => backing.delete(key),
	clear: () => backing.clear(),
});

// clients with no requestLock, each given its own store object over one set of sessions (a
// wrapper per client, a store opened per use): the default lock must keep their refreshes of one
// session apart, or both spend one refresh token and the server's replay detection ends the grant
describe('the default lock of clients on separate store objects over one set of sessions', () => {
	let server: TestOAuthServer;
	beforeAll(async () => {
		server = await startTestOAuthServer();
	});
	afterAll(async () => {
		await server.close();
	});

	it('lets one refresh run at a time, none replayed', async () => {
		const backing = new MapStore<StoredSession>();
		await refreshAtOnce(server, () => wrapperOf(backing));
	});
});
