// shared by @atcute/oauth-store-redis and @atcute/oauth-lock-redis (each build inlines it): the key
// spaces their stores and locks use in this process, so that one can see the other's on its server.
import type { Redis } from 'ioredis';

/** what a key space holds: a store's entries, or a lock's leases. */
export type KeyspaceKind = 'store' | 'lock';

/** a store's or a lock's key space: every key it touches starts with `prefix` (the client's keyPrefix included). */
export interface Keyspace {
	kind: KeyspaceKind;
	prefix: string;
}

interface Entry extends Keyspace {
	/**
	 * the stores or locks over it: a key space none of them uses any more (all collected) is
	 * forgotten. one entry per key space, however many objects use it (a store made per request):
	 * a list of one entry per object, filtered on each registration, made each registration cost
	 * as much as every store made since the last full GC (16,000 stores: 55 s)
	 */
	owners: Set<WeakRef<object>>;
}

/**
 * the lock name the OAuth client refreshes and stores a session under is this, then the DID (see
 * `sessionLockName` in @atcute/oauth-client): a store whose keys start with a lock's prefix and
 * this has its sessions under the very keys of their locks.
 */
const SESSION_LOCK_NAME = 'oauth-session-';

/**
 * the key spaces of this process by server, shared by every installed copy of the two packages
 * (each inlines this module, so a module-level map would be one per package): kept on `globalThis`
 * under a `Symbol.for` key, as the OAuth client's own process registries are. where the global
 * cannot take it, the map is this copy's own.
 */
const registry = ((): Map<string, Map<string, Entry>> => {
	const symbol = Symbol.for('@atcute/oauth/redis-keyspaces@2');
	const existing = (globalThis as Record<symbol, unknown>)[symbol];
	if (existing instanceof Map) return existing as Map<string, Map<string, Entry>>;
	const own = new Map<string, Map<string, Entry>>();
	if (existing !== undefined) return own;
	try {
		Object.defineProperty(globalThis, symbol, { value: own, enumerable: false, writable: false });
	} catch {
		// a frozen global: this copy's own
	}
	return own;
})();

type ClientOptions = Partial<
	Pick<Redis['options'], 'host' | 'port' | 'path' | 'db' | 'keyPrefix' | 'name' | 'sentinels'>
>;

const optionsOf = (redis: Redis): ClientOptions => (redis as { options?: ClientOptions }).options ?? {};

/**
 * the server and database a client's commands go to, as its options name them: clients made apart
 * (`redis.duplicate()`, or `new Redis(url)` twice) for one server share it. a server named two ways
 * (`localhost` and `127.0.0.1`) is taken for two: then they are not compared (as across processes).
 */
const serverOf = (redis: Redis): string => {
	// a Cluster's options name no server of their own: its startup nodes do
	const cluster = redis as { isCluster?: boolean; startupNodes?: unknown };
	if (cluster.isCluster === true) return `cluster:${JSON.stringify(cluster.startupNodes ?? null)}`;
	const { host = 'localhost', port = 6379, path, db = 0, name, sentinels } = optionsOf(redis);
	const where =
		Array.isArray(sentinels) && sentinels.length > 0 ? `sentinel:${name}` : (path ?? `${host}:${port}`);
	return `${where}/${db}`;
};

/** every key a store or lock on `redis` makes with `prefix` starts with this: ioredis adds its keyPrefix. */
export const fullPrefix = (redis: Redis, prefix: string): string =>
	`${optionsOf(redis).keyPrefix ?? ''}${prefix}`;

/** drops an owner once collected, and the key space with its last owner. */
const collected = new FinalizationRegistry<{ server: string; key: string; ref: WeakRef<object> }>(
	({ server, key, ref }) => {
		const entries = registry.get(server);
		const entry = entries?.get(key);
		if (entry === undefined) return;
		entry.owners.delete(ref);
		if (entry.owners.size === 0) entries!.delete(key);
		if (entries!.size === 0) registry.delete(server);
	},
);

/**
 * whether keys of a store with prefix `store` can be keys of the lock with prefix `lock`'s session
 * locks, `lock` + `oauth-session-` + a DID: a store prefix that goes on past that with anything but
 * the start of a DID (`oauth-session-v2:`) never meets them.
 */
const meetsSessionLocks = (store: string, lock: string): boolean => {
	const locks = lock + SESSION_LOCK_NAME;
	if (!store.startsWith(locks)) return false;
	const rest = store.slice(locks.length);
	return 'did:'.startsWith(rest) || rest.startsWith('did:');
};

const liveEntries = (server: string): Entry[] => {
	const entries = registry.get(server);
	if (entries === undefined) return [];
	return [...entries.values()].filter((entry) => {
		for (const ref of entry.owners) if (ref.deref() !== undefined) return true;
		return false;
	});
};

/**
 * records that `owner` (a store or a lock) uses the key space `prefix` on `redis`.
 * @throws {TypeError} when a store of this process would keep its sessions under the keys of a
 *   lock's session locks (a lock with prefix `''` beside a store with prefix `oauth-session-`):
 *   writing a session would overwrite the lease held on it, and no refresh could take it again
 */
export const registerKeyspace = (redis: Redis, kind: KeyspaceKind, prefix: string, owner: object): void => {
	const server = serverOf(redis);
	const mine = fullPrefix(redis, prefix);
	const entries = liveEntries(server);
	for (const other of entries) {
		if (other.kind === kind) continue;
		const [store, lock] = kind === 'store' ? [mine, other.prefix] : [other.prefix, mine];
		if (meetsSessionLocks(store, lock)) {
			throw new TypeError(
				`the Redis store prefix ${JSON.stringify(store)} lies where the Redis lock with prefix ${JSON.stringify(lock)} keeps its session locks ("${lock}${SESSION_LOCK_NAME}<did>"), on the same server: each session would be written over its lock's lease. give the store and the lock prefixes apart (the lock's default is "oauth-lock:")`,
			);
		}
	}
	let byKey = registry.get(server);
	if (byKey === undefined) {
		byKey = new Map();
		registry.set(server, byKey);
	}
	const key = `${kind} ${mine}`;
	let entry = byKey.get(key);
	if (entry === undefined) {
		entry = { kind, prefix: mine, owners: new Set() };
		byKey.set(key, entry);
	}
	const ref = new WeakRef(owner);
	entry.owners.add(ref);
	collected.register(owner, { server, key, ref });
};

/**
 * the key spaces of other stores and locks of this process, on the server `redis` sends to, whose
 * keys all start with `prefix` but are not the key space itself: another store's longer prefix, or
 * any lock's. `clear()` of `prefix` would remove their keys too.
 */
export const keyspacesUnder = (redis: Redis, prefix: string): Keyspace[] => {
	const mine = fullPrefix(redis, prefix);
	const found = new Map<string, Keyspace>();
	for (const other of liveEntries(serverOf(redis))) {
		if (!other.prefix.startsWith(mine)) continue;
		// a store of the same prefix holds the same entries (a second client's store over them)
		if (other.kind === 'store' && other.prefix === mine) continue;
		found.set(`${other.kind} ${other.prefix}`, { kind: other.kind, prefix: other.prefix });
	}
	return [...found.values()];
};
