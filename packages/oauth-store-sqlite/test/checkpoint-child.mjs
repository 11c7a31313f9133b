// a process for src/internal/checkpointer.test.ts, on the built package. modes:
// - `leave`: writes rows and ends its script without closing the store: the process must exit
//   (the checkpoint worker is unref'd);
// - `close`: writes rows, closes the store, ends;
// - `forever`: writes rows with a worker checkpointing every millisecond, printing how many are
//   committed after every 50, until the test kills it.
import { SqliteStore } from '@atcute/oauth-store-sqlite';

const [path, mode] = process.argv.slice(2);
const store = new SqliteStore({
	path,
	table: 'oauth_sessions',
	checkpointInterval: mode === 'forever' ? 1 : 10,
});
const payload = 'x'.repeat(3000);

if (mode === 'forever') {
	for (let i = 0; ; i++) {
		await store.set(`key-${i}`, { i, payload });
		if ((i + 1) % 50 === 0) {
			process.stdout.write(`${i + 1}\n`);
			// turns of the event loop, as an app has
			await new Promise((resolve) => setImmediate(resolve));
		}
	}
}
for (let i = 0; i < 300; i++) await store.set(`key-${i}`, { i, payload });
// long enough for the worker to have run
await new Promise((resolve) => setTimeout(resolve, 100));
if (mode === 'close') store.close();
process.stdout.write('written\n');
