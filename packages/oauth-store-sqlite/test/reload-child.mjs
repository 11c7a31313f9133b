// the child of src/hot-reload.test.ts: what a dev server's hot reload does to the package. each
// reload evaluates the built package again (a fresh module instance, as a re-imported app module
// gets), makes a sessions store, a states store and a lock on one file, writes a session and a
// state (both with an expiry) and drops them all without close(), while a store opened first (the
// app's current one) stays open. after `reloads` rounds and a full garbage collection it prints
// one JSON line: how many of the dropped stores and locks are still alive, and how many threads
// and file descriptors the process has.
import { readdirSync } from 'node:fs';

const [path, reloads] = process.argv.slice(2);
const url = import.meta.resolve('@atcute/oauth-store-sqlite');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const threads = () => readdirSync('/proc/self/task').length;
const alive = [];
// the app's current store, open all along: its connection and worker must stay as they are
const { SqliteStore: Current } = await import(url);
const current = new Current({ path, table: 'current' });
await current.set('current', true);

/** one reload: in a function of its own, so that nothing of the last one stays in this scope. */
const reload = async (round) => {
	const { SqliteStore, createSqliteLock } = await import(`${url}?reload=${round}`);
	const sessions = new SqliteStore({ path, table: 'oauth_sessions' });
	const states = new SqliteStore({ path, table: 'oauth_states' });
	const lock = createSqliteLock({ path });
	await lock('oauth-session-did:plc:alice', async () => {
		await sessions.set('did:plc:alice', { round }, { expiresAt: Date.now() + 3_600_000 });
	});
	await states.set(`state-${round}`, { round }, { expiresAt: Date.now() + 600_000 });
	alive.push(new WeakRef(sessions), new WeakRef(states), new WeakRef(lock));
};
for (let round = 0; round < Number(reloads); round++) await reload(round);

// collected stores stop their checkpoint workers, whose threads then end: settle until the count
// has held for five passes in a row (a worker on a loaded machine may take a while to exit)
let before = -1;
for (let pass = 0, steady = 0; pass < 300 && steady < 5; pass++) {
	const now = threads();
	steady = now === before ? steady + 1 : 0;
	before = now;
	for (let i = 0; i < 5; i++) {
		globalThis.gc();
		await sleep(20);
	}
}
process.stdout.write(
	`${JSON.stringify({
		dropped: alive.filter((ref) => ref.deref() !== undefined).length,
		threads: threads(),
		fds: readdirSync('/proc/self/fd').length,
	})}\n`,
);
current.close();
