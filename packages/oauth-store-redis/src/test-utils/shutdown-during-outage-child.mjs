// an app shutting down while Redis is away: a store call waits for a connection when SIGTERM
// comes, and the handler quits the ioredis client, as the README's shutdown does. the process
// must then exit by itself. runs on the built package (plain node, as an app does).
// argv: the URL of a port nobody listens on, the store's timeout in ms.
import { RedisStore } from '@atcute/oauth-store-redis';
import { Redis } from 'ioredis';

const [url, timeout] = process.argv.slice(2);
const redis = new Redis(url, { autoResendUnfulfilledCommands: false });
redis.on('error', () => {});
const store = new RedisStore({ redis, prefix: 'shutdown:', timeout: Number(timeout) });

const report = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const outcomeOf = (pending) =>
	pending.then(
		() => ({ resolved: true }),
		(err) => ({ name: err.name, code: err.code, transient: err.transient }),
	);

process.once('SIGTERM', async () => {
	await redis.quit();
	report({ type: 'quit', status: redis.status });
	// a call after the shutdown: refused at once, as on a client quit while connected
	report({ type: 'after', outcome: await outcomeOf(store.get('did:plc:b')) });
});

// the first attempt to connect fails (nobody listens): the client then waits to reconnect
await new Promise((resolve) => redis.once('reconnecting', resolve));
const pending = outcomeOf(store.get('did:plc:a'));
report({ type: 'ready' });
report({ type: 'pending', outcome: await pending });
