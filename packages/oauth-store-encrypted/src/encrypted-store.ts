import type { Store, StoreGetOptions, StoreSetOptions } from '@atcute/oauth-client';

import type { EncryptStoreOptions } from './encrypt-store-options.ts';
import { StoreDecryptionError } from './errors.ts';
import { runLocked } from './internal/checked-lock.ts';
import { expiryOf } from './internal/entry-expiry.ts';
import { checkEntryKey } from './internal/entry-key.ts';
import { checkEnvelope, isEnvelopeLike, openEnvelope, sealEnvelope } from './internal/envelope.ts';
import { createKeyRing, type KeyRing } from './internal/key-ring.ts';
import { PlaintextCache } from './internal/plaintext-cache.ts';
import { checkRewrapArguments } from './internal/rewrap-arguments.ts';
import { rewrapEntries } from './internal/rewrap-entries.ts';
import { typeOf } from './internal/type-of.ts';
import type { RewrapOptions, RewrapReport } from './rewrap-options.ts';

/** how many decrypted entries `encryptStore` keeps by default. */
const DEFAULT_CACHE_SIZE = 1000;

/** the options `encryptStore` knows; any other is refused (see the constructor). */
const OPTION_NAMES: ReadonlySet<string> = new Set([
	'keys',
	'allowPlaintext',
	'cacheSize',
] satisfies (keyof EncryptStoreOptions)[]);

/**
 * an option name an error may quote: anything else may be a value pasted where a name belongs.
 * at most 31 characters, as any option name is: a 43-character base64url secret without "-"
 * that starts with a letter is an identifier too, and so is hex of 16 bytes or more.
 */
const IDENTIFIER = /^[A-Za-z_$][\w$]{0,30}$/;

/**
 * a `Store` that encrypts every value with AES-256-GCM (WebCrypto) before it reaches the wrapped
 * store, and decrypts on the way out. the wrapped store holds `{ v, kid, iv, ct, exp? }` objects
 * of base64url text. the entry's key (DID or state id), the key id and the format version are
 * authenticated, so a ciphertext moved under another key does not decrypt.
 */
export class EncryptedStore<K extends string = string, V = unknown> implements Store<K, V> {
	readonly #inner: Store<K, unknown>;
	readonly #ring: KeyRing;
	readonly #allowPlaintext: boolean;
	readonly #cache: PlaintextCache;

	/**
	 * removes the entry under `key` and returns its value, decrypted. present (an own property)
	 * only when the wrapped store has `take`, then as atomic as the wrapped store's: `'take' in
	 * store` tells. an entry it cannot decrypt throws a `StoreDecryptionError` and stays in the
	 * store, with its expiry.
	 */
	// declared, not a field: a field would be an own property `undefined` on every instance
	declare readonly take?: (key: K) => Promise<V | undefined>;

	/**
	 * wraps `store` (prefer `encryptStore`, which infers the types from where the store is used).
	 * @param store the store the encrypted values are written to
	 * @param options the keys (the first encrypts, all decrypt) and the plaintext and cache settings
	 * @throws {TypeError} when `store` is not a store or an option is invalid (a key's message names
	 *   its position, never its secret)
	 */
	constructor(store: Store<K, V>, options: EncryptStoreOptions) {
		// every method is checked now: one found missing at the first write would fail a sign-in
		const methods = ['get', 'set', 'delete', 'clear'] as const;
		const missing =
			typeof store === 'object' && store !== null
				? methods.filter((name) => typeof store[name] !== 'function')
				: methods;
		if (missing.length > 0) {
			throw new TypeError(`store must be a Store (get, set, delete, clear); it has no ${missing.join(', ')}`);
		}
		// a misspelt option (`allowPlainText`, `cachesize: 0`) would be taken as no option at all:
		// the setting meant would silently not apply (plaintext kept in memory, say)
		for (const name of typeof options === 'object' && options !== null ? Object.keys(options) : []) {
			if (!OPTION_NAMES.has(name)) {
				// quoted only when it is a plain identifier, as a misspelt option is: anything else may
				// be a value (a secret, a key ring) spread or pasted where a name belongs
				const problem = IDENTIFIER.test(name)
					? `has no option ${JSON.stringify(name)}`
					: 'was given an option whose name is not an identifier (not repeated here)';
				throw new TypeError(`encryptStore ${problem}; its options are ${[...OPTION_NAMES].join(', ')}`);
			}
		}
		const { keys, allowPlaintext = false, cacheSize = DEFAULT_CACHE_SIZE } = options ?? {};
		if (typeof allowPlaintext !== 'boolean') throw new TypeError('allowPlaintext must be a boolean');
		if (!Number.isInteger(cacheSize) || cacheSize < 0) {
			// what is wrong with it, never the value: a secret pasted into the wrong field must not be logged
			const got =
				typeof cacheSize !== 'number'
					? typeOf(cacheSize)
					: cacheSize < 0
						? 'a negative number'
						: 'a number that is not an integer';
			throw new TypeError(`cacheSize must be a non-negative integer, got ${got}`);
		}
		this.#ring = createKeyRing(keys, 'keys');
		this.#inner = store as Store<K, unknown>;
		this.#allowPlaintext = allowPlaintext;
		this.#cache = new PlaintextCache(cacheSize);
		if (typeof store.take === 'function') {
			const take = store.take.bind(store) as (key: K) => Promise<unknown>;
			this.take = async (key) => {
				checkEntryKey(key);
				// read it first, without removing it: an entry we cannot return (plaintext, another
				// key, tampered) then throws where it is, keeping the expiry its store holds, which
				// the Store interface cannot tell us, and is never at risk of being lost
				const found = await this.#inner.get(key);
				// null too: what a store over ioredis or pg answers for a missing entry, as the OAuth
				// client reads it
				if (found == null) {
					this.#cache.delete(key);
					return undefined;
				}
				await this.#open(key, found);
				try {
					// the value returned is the one take removed (atomic), never the one read above
					const raw = await take(key);
					try {
						return await this.#open(key, raw);
					} catch (err) {
						// replaced between the read and the take: never lose it, put it back as it was
						if (err instanceof StoreDecryptionError) await this.#putBack(key, raw, err);
						throw err;
					}
				} finally {
					this.#cache.delete(key);
				}
			};
		}
	}

	/** the id of the key that encrypts new writes. */
	get primaryKeyId(): string {
		return this.#ring.primary.id;
	}

	/**
	 * the value under `key`, decrypted, or `undefined` when there is none.
	 * @throws {StoreDecryptionError} when the entry is there but cannot be decrypted (it is kept)
	 * @throws {TypeError} when `key` holds a lone surrogate (see the README's Failures)
	 */
	async get(key: K, options?: StoreGetOptions): Promise<V | undefined> {
		checkEntryKey(key);
		const raw = await this.#inner.get(key, options);
		if (raw == null) this.#cache.delete(key);
		return this.#open(key, raw);
	}

	/**
	 * encrypts `value` (its JSON) under the first key and stores it, keeping `expiresAt`.
	 * @throws {TypeError} when `value` is not JSON-serialisable, `key` holds a lone surrogate, or
	 * `options` is given but not an object
	 */
	async set(key: K, value: V, options?: StoreSetOptions): Promise<void> {
		checkEntryKey(key);
		// an expiry passed on its own (`set(key, value, Date.now() + ttl)`) would read as no options,
		// and the entry be kept for ever by a store that does not check (every store here refuses it)
		if (options !== undefined && (typeof options !== 'object' || options === null)) {
			throw new TypeError(
				`set(key, value, options) expects options such as { expiresAt }, got ${options === null ? 'null' : typeof options}`,
			);
		}
		const text = JSON.stringify(value);
		if (typeof text !== 'string') {
			throw new TypeError('value must be JSON-serialisable (not undefined, a function or a symbol)');
		}
		// only a finite expiry goes into the envelope: JSON would turn Infinity into null
		const expiresAt = options?.expiresAt;
		const exp = typeof expiresAt === 'number' && Number.isFinite(expiresAt) ? expiresAt : undefined;
		const envelope = await sealEnvelope(this.#ring, key, text, exp);
		// until the write is done, the old cached text must not serve a read
		this.#cache.delete(key);
		await this.#inner.set(key, envelope, options);
		this.#cache.set(key, envelope, text);
	}

	/** removes the entry under `key`, whatever it holds (decrypts nothing), and forgets its cached text. */
	async delete(key: K): Promise<void> {
		this.#cache.delete(key);
		await this.#inner.delete(key);
	}

	/** removes every entry of the wrapped store, and empties the cache of decrypted entries. */
	async clear(): Promise<void> {
		this.#cache.clear();
		await this.#inner.clear();
	}

	/**
	 * the id of the key `key`'s entry is encrypted with, `null` for a plaintext entry, `undefined`
	 * when there is none. decrypts nothing.
	 */
	async keyIdOf(key: K): Promise<string | null | undefined> {
		const raw = await this.#inner.get(key);
		if (raw == null) return undefined;
		return isEnvelopeLike(raw) ? checkEnvelope(key, raw).kid : null;
	}

	/**
	 * for key rotation: re-encrypts under the first key every entry of `keys` that another key
	 * (or none) encrypts, and counts what it found. the `Store` interface cannot list entries, so
	 * the caller gives the keys (its accounts' DIDs, or the store's own listing). each entry is
	 * re-read and rewritten inside `lock`; entries with an expiry (authorization states) are
	 * counted but never rewritten; entries that fail to decrypt are reported, not thrown, and
	 * left as they are. with `dryRun`, writes nothing and decrypts every entry to check it.
	 * @throws {TypeError} before anything is done, when `keys` is not an iterable (a string is
	 *   refused: wrap one key in an array), `lock` is missing (not a dry run) or an option is
	 *   invalid (`dryRun` not a boolean, `lockName` or `onProgress` not a function)
	 * @throws {RewrapAbortedError} when another error (the store, the lock, `onProgress`, a key
	 *   that is not a string, a lock that returns without running its function) stops it; the
	 *   error holds the report so far
	 */
	async rewrap(
		// `& object`: a string is an iterable of its characters, refused here and at run time
		keys: (Iterable<K> | AsyncIterable<K>) & object,
		options: RewrapOptions<K> = {},
	): Promise<RewrapReport<K>> {
		checkRewrapArguments(keys, options);
		const { lock, lockName = defaultLockName, dryRun = false, onProgress } = options;
		if (!dryRun && typeof lock !== 'function') {
			throw new TypeError(
				'lock is required unless dryRun: pass the LockFunction your OAuthClient uses (requestLock), so a rewrap never overwrites a concurrent refresh',
			);
		}
		if (onProgress !== undefined && typeof onProgress !== 'function') {
			throw new TypeError('onProgress must be a function');
		}
		return rewrapEntries(
			{
				inner: this.#inner,
				ring: this.#ring,
				cache: this.#cache,
				readPlaintext: (key, raw) => this.#plaintext(key as K, raw),
			},
			keys,
			dryRun ? undefined : (key, visit) => runLocked(lock!, lockName(key), visit),
			onProgress,
		);
	}

	/** the value of what the wrapped store returned for `key`. */
	async #open(key: K, raw: unknown): Promise<V | undefined> {
		// null: a missing entry, as above (no value the client stores is null)
		if (raw == null) return undefined;
		if (!isEnvelopeLike(raw)) return this.#plaintext(key, raw) as V;
		const envelope = checkEnvelope(key, raw);
		let text = this.#cache.get(key, envelope);
		if (text === undefined) {
			text = await openEnvelope(this.#ring, key, envelope);
			this.#cache.set(key, envelope, text);
		}
		return JSON.parse(text) as V;
	}

	/** a value written before encryption was on: readable only when the app opted in. */
	#plaintext(key: K, raw: unknown): unknown {
		if (this.#allowPlaintext) {
			// a copy through JSON, as every other read gives (a caller that mutates what it got cannot
			// change the store, and a value reads the same before and after the rewrap encrypts it)
			try {
				return JSON.parse(JSON.stringify(raw));
			} catch (err) {
				// what no entry this wrapper wrote can be (a bigint, a cycle, nesting deeper than the
				// stack): refused as this entry's own fault, so a rewrap reports it and goes on
				throw new StoreDecryptionError(
					'malformed',
					key,
					undefined,
					`the plaintext entry ${JSON.stringify(key)} is no JSON value (${err instanceof RangeError ? 'nested too deep' : 'it holds a value JSON cannot'}), so it can be neither read nor encrypted`,
					{ cause: err },
				);
			}
		}
		throw new StoreDecryptionError(
			'plaintext',
			key,
			undefined,
			`the entry ${JSON.stringify(key)} is not encrypted: it was written before encryptStore was enabled (set allowPlaintext: true to read and migrate such entries)`,
		);
	}

	/**
	 * restores an entry `take` removed but could not decrypt (`error`), keeping its expiry (see
	 * `expiryOf`). when the store refuses the write, throws `error` all the same, saying so.
	 */
	async #putBack(key: K, raw: unknown, error: StoreDecryptionError): Promise<void> {
		const exp = expiryOf(raw);
		try {
			// with its expiry: a state put back without one would outlive its TTL (for ever in SQL stores)
			await this.#inner.set(key, raw, exp === undefined ? undefined : { expiresAt: exp });
		} catch (putBackError) {
			// the decryption error is the one to report, not the write's: the write failing is why it is lost
			throw new StoreDecryptionError(
				error.code,
				error.entryKey,
				error.keyId,
				`${error.message} (it was taken from the store and could not be put back: it is lost)`,
				{ cause: putBackError },
			);
		}
	}
}

/** the lock name the OAuthClient refreshes a session under. */
const defaultLockName = (key: string): string => `oauth-session-${key}`;

/**
 * wraps `store` so every value is encrypted at rest with AES-256-GCM under a key ring (the first
 * key encrypts, any key decrypts). works over any `Store`; returns a `Store` of the same types.
 * @see https://csrc.nist.gov/pubs/sp/800/38/d/final (GCM)
 */
export const encryptStore = <K extends string, V>(
	store: Store<K, V>,
	options: EncryptStoreOptions,
): EncryptedStore<K, StoredValue<V>> =>
	new EncryptedStore<K, StoredValue<V>>(store as Store<K, never>, options);

/**
 * the value type of a wrapped store. a synchronous store used where an async one is expected
 * (`new MemoryStore()` as a `SessionStore`) is inferred with `Promise` in its value type; the
 * wrapper's own methods are async, so it takes the values themselves.
 */
export type StoredValue<V> = Exclude<Awaited<V>, undefined>;
