import type { Store, StoreGetOptions, StoreSetOptions } from '@atcute/oauth-client';
import { expiresAtOf } from '@atcute-oauth/internal/expires-at';
import { hasLoneSurrogate } from '@atcute-oauth/internal/lone-surrogate';
import { keyspacesUnder, registerKeyspace } from '@atcute-oauth/internal/redis-keyspaces';
import {
	ClientModeFailure,
	CommandFailure,
	ConnectionClosedFailure,
	runCommand,
} from '@atcute-oauth/internal/run-command';
import { isTimerDelay, MAX_TIMER_MS } from '@atcute-oauth/internal/timer-delay';
import type { Redis } from 'ioredis';
import { CLEAR_BATCH_SIZE, DEFAULT_TIMEOUT_MS } from './constants.ts';
import { RedisStoreError, type StoreOperation, StoreUnavailableError } from './errors.ts';
import { warnIfCommandsResent } from './internal/warn-resend.ts';

/** options for `new RedisStore()`. */
export interface RedisStoreOptions {
	/**
	 * the ioredis client. the store only sends commands: it never connects, quits or listens for
	 * `error` on it. a `Cluster` is not supported (`clear()` scans one server).
	 */
	redis: Redis;
	/**
	 * prepended to every key, e.g. `oauth:session:`. required and non-empty: `clear()` removes
	 * every key that starts with it, so no store's prefix may start another's.
	 */
	prefix: string;
	/**
	 * how long an entry lives when the client gives no `expiresAt`, in milliseconds; default for
	 * ever. the client gives none for sessions: a session must outlive its refresh token (the
	 * reference PDS keeps a confidential client's refresh token for about 6 months of inactivity
	 * and 2 years in all), and it is deleted when it ends. if you set one for sessions, set it
	 * longer than that; each refresh writes the session again and restarts it.
	 */
	ttl?: number | undefined;
	/**
	 * how long each operation may take, waiting for a connection included, in milliseconds;
	 * default 5 000. past it the operation fails with `StoreUnavailableError`.
	 */
	timeout?: number | undefined;
	/** the clock that `expiresAt` is measured against, in milliseconds since the epoch; default `Date.now`. */
	now?: (() => number) | undefined;
}

/** `*`, `?`, `[`, `]` and `\` are glob syntax in a SCAN pattern. */
const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');

const isPositive = (value: number): boolean => Number.isFinite(value) && value > 0;

/**
 * a `Store` in Redis, for apps that run several processes or machines: values are JSON under
 * `prefix` + key, expiry is set in the same command as the value, `take` is one atomic `GETDEL`
 * (Redis >= 6.2), and every failure is a typed error, never a silent `undefined`.
 */
export class RedisStore<K extends string = string, V = unknown> implements Store<K, V> {
	readonly #redis: Redis;
	readonly #prefix: string;
	readonly #ttl: number | undefined;
	readonly #timeout: number;
	readonly #now: () => number;

	/** @param options the Redis client, key prefix, expiry and time limit; see `RedisStoreOptions` */
	constructor(options: RedisStoreOptions) {
		const { redis, prefix, ttl, timeout = DEFAULT_TIMEOUT_MS, now = Date.now } = options ?? {};
		if (typeof redis?.getdel !== 'function' || typeof redis.scanBuffer !== 'function') {
			throw new TypeError('redis must be an ioredis client (new Redis(...))');
		}
		if ((redis as { isCluster?: boolean }).isCluster === true) {
			throw new TypeError('redis must be a single ioredis client: a Cluster is not supported');
		}
		if (typeof prefix !== 'string' || prefix === '') {
			// an empty prefix would let clear() remove every key of the database
			throw new TypeError('prefix must be a non-empty string, e.g. "oauth:session:"');
		}
		// past 2^53 Redis refuses the PX of every set: no session could ever be written
		if (ttl !== undefined && !(isPositive(ttl) && Number.isSafeInteger(ttl))) {
			throw new TypeError(
				`ttl must be a positive integer number of milliseconds up to ${Number.MAX_SAFE_INTEGER}, got ${ttl}`,
			);
		}
		// each command's deadline is a timer
		if (!isTimerDelay(timeout)) {
			throw new TypeError(
				`timeout must be a positive number of milliseconds up to ${MAX_TIMER_MS}, got ${timeout}`,
			);
		}
		if (typeof now !== 'function') throw new TypeError(`now must be a function, got ${typeof now}`);
		// known to this process's other stores and locks on the server: a clear() of theirs must not
		// sweep this store's keys, and this store must not keep sessions where a lock keeps its leases
		registerKeyspace(redis, 'store', prefix, this);
		this.#redis = redis;
		warnIfCommandsResent(redis);
		this.#prefix = prefix;
		this.#ttl = ttl;
		this.#timeout = timeout;
		this.#now = now;
	}

	async get(key: K, options?: StoreGetOptions): Promise<V | undefined> {
		// the key is checked here, not inside the command: a TypeError there would read as "Redis did not answer"
		const fullKey = this.#key(key);
		if (fullKey === undefined) return undefined;
		const json = await this.#run('get', () => this.#redis.get(fullKey), options?.signal);
		return this.#parse(json, 'get');
	}

	async set(key: K, value: V, options?: StoreSetOptions): Promise<void> {
		const json = JSON.stringify(value);
		if (typeof json !== 'string') {
			throw new TypeError('value must be JSON-serialisable (not undefined, a function or a symbol)');
		}
		const fullKey = this.#key(key);
		if (fullKey === undefined) {
			throw new TypeError(
				'key must not contain a lone surrogate: Redis keys are sent as UTF-8, which cannot hold one',
			);
		}
		const expiresAt = expiresAtOf(options);

		let ttl = this.#ttl;
		if (expiresAt !== undefined) {
			// relative to our clock, which set expiresAt: the Redis server's clock may differ.
			// rounded up, so an entry never expires before its time
			ttl = Math.ceil(expiresAt - this.#now());
			if (ttl <= 0) {
				// already expired: what was there is replaced by nothing
				await this.#run('set', () => this.#redis.del(fullKey));
				return;
			}
		}

		// value and expiry in one command: a crash between a SET and an EXPIRE would leave
		// a state that never expires, and a plain SET also clears an earlier expiry
		await this.#run('set', () =>
			ttl === undefined ? this.#redis.set(fullKey, json) : this.#redis.set(fullKey, json, 'PX', ttl),
		);
	}

	async delete(key: K): Promise<void> {
		const fullKey = this.#key(key);
		if (fullKey === undefined) return;
		await this.#run('delete', () => this.#redis.del(fullKey));
	}

	async take(key: K): Promise<V | undefined> {
		const fullKey = this.#key(key);
		if (fullKey === undefined) return undefined;
		// one command: two callbacks racing for one state can never both get it
		const json = await this.#run('take', () => this.#redis.getdel(fullKey));
		return this.#parse(json, 'take');
	}

	/**
	 * removes every key under this store's prefix (and only those), in batches; never `KEYS`.
	 * @throws {TypeError} deleting nothing, when another store or a lock of this process, on the
	 *   same server, keeps its keys under this prefix (a states store `oauth:state:` beside a
	 *   sessions store `oauth:`): they would go too
	 */
	async clear(): Promise<void> {
		// every key under the prefix goes, and nothing tells another store's (or a held lease) from
		// ours: a sessions store `oauth:` would sweep the states of `oauth:state:`
		const under = keyspacesUnder(this.#redis, this.#prefix);
		if (under.length > 0) {
			const named = under.map(({ kind, prefix }) => `a ${kind} with prefix ${JSON.stringify(prefix)}`);
			throw new TypeError(
				`clear() of the Redis store with prefix ${JSON.stringify(this.#prefix)} would remove the keys of ${named.join(', ')} on the same server too; give each store and lock a prefix that does not start another's`,
			);
		}
		// SCAN sees keys with the client's own keyPrefix, and UNLINK adds it again
		const clientPrefix = Buffer.from(this.#redis.options?.keyPrefix ?? '');
		const pattern = `${escapeGlob(clientPrefix.toString())}${escapeGlob(this.#prefix)}*`;
		let cursor = '0';
		do {
			const [next, keys] = await this.#run('clear', () =>
				this.#redis.scanBuffer(cursor, 'MATCH', pattern, 'COUNT', CLEAR_BATCH_SIZE),
			);
			cursor = next.toString();
			if (keys.length > 0) {
				const own = keys.map((key) => key.subarray(clientPrefix.length));
				await this.#run('clear', () => this.#redis.unlink(...own));
			}
		} while (cursor !== '0');
	}

	/**
	 * the Redis key for `key`, or undefined for one no entry can have: with a lone surrogate, which
	 * UTF-8 sends as U+FFFD, so every such key would name one entry.
	 */
	#key(key: K): string | undefined {
		if (typeof key !== 'string') {
			throw new TypeError(`key must be a string, got ${typeof key}`);
		}
		if (hasLoneSurrogate(key)) return undefined;
		return this.#prefix + key;
	}

	#parse(json: string | null, operation: StoreOperation): V | undefined {
		if (json === null) return undefined;
		try {
			return JSON.parse(json) as V;
		} catch {
			// no cause: the text may be a session, and a session holds tokens
			throw new RedisStoreError(
				'invalid_value',
				operation,
				`the value stored under a key with prefix ${JSON.stringify(this.#prefix)} is not JSON`,
			);
		}
	}

	async #run<T>(operation: StoreOperation, send: () => Promise<T>, signal?: AbortSignal): Promise<T> {
		try {
			return await runCommand(this.#redis, { timeout: this.#timeout, signal }, send);
		} catch (err) {
			if (!(err instanceof CommandFailure)) throw err;
			const message = `redis store ${operation} failed: ${err.message}`;
			if (err.transient) throw new StoreUnavailableError(operation, message, { cause: err.cause });
			// a client closed for good, or kept for pub/sub or MONITOR, is no refusal of Redis's, but
			// no later try can work either
			const code =
				err instanceof ConnectionClosedFailure
					? 'closed'
					: err instanceof ClientModeFailure
						? 'client_mode'
						: 'rejected';
			throw new RedisStoreError(code, operation, message, { cause: err.cause });
		}
	}
}
