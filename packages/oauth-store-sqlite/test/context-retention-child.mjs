// the child of src/sqlite-store.async-context.test.ts, run with --expose-gc on the built package
// (children cannot import the TypeScript sources): a request writes a state (arming the expiry
// purge) and ends; prints one JSON line saying whether its async context object is still reachable.
import { AsyncLocalStorage } from 'node:async_hooks';

import { SqliteStore } from '@atcute/oauth-store-sqlite';

const [path] = process.argv.slice(2);
const als = new AsyncLocalStorage();
const store = new SqliteStore({ path });

let context;
await (async () => {
	const request = { requestId: 'A', user: new Array(10_000).fill('a request-scoped object') };
	context = new WeakRef(request);
	// a state lives 10 minutes: its expiry purge is armed for then
	await als.run(request, () => store.set('state', 1, { expiresAt: Date.now() + 600_000 }));
})();
for (let i = 0; i < 5; i++) {
	await new Promise((resolve) => setTimeout(resolve, 10));
	globalThis.gc();
}
console.log(JSON.stringify({ retained: context.deref() !== undefined }));
store.close();
