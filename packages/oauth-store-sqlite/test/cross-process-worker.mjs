// one of the processes of src/cross-process.test.ts. it runs the built package (children cannot
// import the TypeScript sources): takes every state key it can, writes sessions, and increments a
// shared counter under the SQLite lock. it prints "ready", waits for "go" on stdin so that all
// processes start together, then prints one JSON line with what it took and every error it saw.
import { createInterface } from 'node:readline';

import { createSqliteLock, SqliteStore } from '@atcute/oauth-store-sqlite';

const [path, worker, keyCount, increments] = process.argv.slice(2);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const sessions = new SqliteStore({ path, table: 'oauth_sessions' });
const states = new SqliteStore({ path, table: 'oauth_states' });
const lock = createSqliteLock({ path, timeout: 30_000 });

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
process.stdout.write('ready\n');
await lines.next();

const errors = [];
const record = (err) =>
	errors.push({ name: err?.name, code: err?.sqliteCode ?? err?.code, message: err?.message });
const taken = [];

// every process tries every key, each in its own order
const keys = Array.from({ length: Number(keyCount) }, (_, i) => `state-${i}`).sort(() => Math.random() - 0.5);

await Promise.all([
	...keys.map(async (key) => {
		try {
			if ((await states.take(key)) !== undefined) taken.push(key);
		} catch (err) {
			record(err);
		}
	}),
	...Array.from({ length: 50 }, async (_, i) => {
		try {
			await sessions.set(`did:plc:w${worker}-${i}`, { worker, i });
			await sessions.set('did:plc:shared', { worker, i, payload: `${worker}`.repeat(4096) });
		} catch (err) {
			record(err);
		}
	}),
	...Array.from({ length: Number(increments) }, async () => {
		try {
			// read, pause, write: without mutual exclusion across processes, increments are lost
			await lock('counter', async () => {
				const count = (await sessions.get('counter')) ?? 0;
				await sleep(1);
				await sessions.set('counter', count + 1);
			});
		} catch (err) {
			record(err);
		}
	}),
]);

process.stdout.write(`${JSON.stringify({ worker, taken, errors })}\n`);
sessions.close();
states.close();
lock.close();
process.exit(0);
