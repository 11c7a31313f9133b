// an app shutting down while a store call waits for a connection of its full pool: on SIGTERM it
// ends the pool, as the README's shutdown does, and gives back the connection it held. the
// process must then exit by itself. runs on the built package (plain node, as an app does).
// argv: the database URL, the store's timeout in ms.
import { PostgresStore } from '@atcute/oauth-store-postgres';
import pg from 'pg';

const [url, timeout] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: url, max: 1 });
pool.on('error', () => {});
const store = new PostgresStore({ pool, table: `shutdown_${process.pid}`, timeout: Number(timeout) });

const report = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const outcomeOf = (pending) =>
	pending.then(
		() => ({ resolved: true }),
		(err) => ({ name: err.name, code: err.code, transient: err.transient }),
	);

await store.migrate();
// the app's own work holds the pool's one connection: the store's call waits for it
const held = await pool.connect();
const pending = outcomeOf(store.get('did:plc:a'));

process.once('SIGTERM', async () => {
	const ended = pool.end();
	held.release();
	await ended;
	report({ type: 'ended' });
});

report({ type: 'ready' });
report({ type: 'pending', outcome: await pending });
