import { describe, expect, it } from 'vitest';

import { compactCodec } from './compact-codec.ts';
import { MemoryStore, SWEEP_BATCH } from './memory-store.ts';

const clock = (start = 1_000_000) => {
	let now = start;
	return {
		now: () => now,
		advance: (ms: number) => {
			now += ms;
		},
	};
};

describe('MemoryStore', () => {
	it('gets what was set, replaces on a second set, and forgets on delete', () => {
		const store = new MemoryStore<string, { n: number }>();
		expect(store.get('a')).toBeUndefined();
		store.set('a', { n: 1 });
		expect(store.get('a')).toEqual({ n: 1 });
		store.set('a', { n: 2 });
		expect(store.get('a')).toEqual({ n: 2 });
		expect(store.size).toBe(1);
		store.delete('a');
		expect(store.get('a')).toBeUndefined();
		// deleting a missing key is fine
		store.delete('a');
	});

	it('clears every entry', () => {
		const store = new MemoryStore();
		store.set('a', 1);
		store.set('b', 2);
		store.clear();
		expect(store.size).toBe(0);
		expect(store.get('a')).toBeUndefined();
	});

	it('expires entries after its ttl', () => {
		const time = clock();
		const store = new MemoryStore({ ttl: 1000, now: time.now });
		store.set('a', 1);
		time.advance(999);
		expect(store.get('a')).toBe(1);
		time.advance(1);
		expect(store.get('a')).toBeUndefined();
		expect(store.size).toBe(0);
	});

	it('expires an entry at the expiresAt the library gives, when that comes first', () => {
		const time = clock();
		const store = new MemoryStore({ ttl: 10_000, now: time.now });
		store.set('a', 1, { expiresAt: time.now() + 500 });
		time.advance(499);
		expect(store.get('a')).toBe(1);
		time.advance(1);
		expect(store.get('a')).toBeUndefined();
	});

	it('keeps an entry past a later expiresAt only as long as its own ttl', () => {
		const time = clock();
		const store = new MemoryStore({ ttl: 100, now: time.now });
		store.set('a', 1, { expiresAt: time.now() + 10_000 });
		time.advance(100);
		expect(store.get('a')).toBeUndefined();
	});

	it('drops the least recently used entry past maxSize', () => {
		const store = new MemoryStore({ maxSize: 2 });
		store.set('a', 1);
		store.set('b', 2);
		// reading a makes b the least recently used
		expect(store.get('a')).toBe(1);
		store.set('c', 3);
		expect(store.get('b')).toBeUndefined();
		expect(store.get('a')).toBe(1);
		expect(store.get('c')).toBe(3);
	});

	it('counts a second set as a use past maxSize, and an unbounded store keeps every entry', () => {
		const bounded = new MemoryStore({ maxSize: 2 });
		bounded.set('a', 1);
		bounded.set('b', 2);
		// setting a again makes b the least recently used
		bounded.set('a', 3);
		bounded.set('c', 4);
		expect(bounded.get('b')).toBeUndefined();
		expect(bounded.get('a')).toBe(3);
		const unbounded = new MemoryStore();
		for (let round = 0; round < 3; round++) {
			for (let i = 0; i < 100; i++) unbounded.set(`k${i}`, round);
		}
		expect(unbounded.size).toBe(100);
		expect(unbounded.get('k0')).toBe(2);
		expect(unbounded.get('k99')).toBe(2);
	});

	it('drops entries in least-recently-used order over many gets and sets', () => {
		// a reference: a Map kept in use order by hand
		const maxSize = 50;
		const store = new MemoryStore<string, number>({ maxSize });
		const reference = new Map<string, number>();
		let seed = 7;
		const random = (n: number) => {
			seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
			return seed % n;
		};
		for (let round = 0; round < 5000; round++) {
			const key = `k${random(200)}`;
			if (random(3) === 0) {
				const expected = reference.get(key);
				if (expected !== undefined) {
					reference.delete(key);
					reference.set(key, expected);
				}
				expect(store.get(key)).toBe(expected);
			} else {
				reference.delete(key);
				reference.set(key, round);
				if (reference.size > maxSize) reference.delete(reference.keys().next().value!);
				store.set(key, round);
			}
		}
		expect(store.size).toBe(maxSize);
		for (let i = 0; i < 200; i++) expect(store.get(`k${i}`)).toBe(reference.get(`k${i}`));
	});

	it('keeps many entries apart, through deletes and a clear', () => {
		const store = new MemoryStore<string, number>();
		const did = (i: number) => `did:plc:${i.toString(36).padStart(24, '0')}`;
		for (let i = 0; i < 20_000; i++) store.set(did(i), i);
		for (let i = 0; i < 20_000; i += 3) store.delete(did(i));
		expect(store.size).toBe(20_000 - 6667);
		for (let i = 0; i < 20_000; i++) expect(store.get(did(i))).toBe(i % 3 === 0 ? undefined : i);
		store.clear();
		expect(store.size).toBe(0);
		expect(store.get(did(1))).toBeUndefined();
		store.set(did(1), -1);
		expect(store.get(did(1))).toBe(-1);
		expect(store.size).toBe(1);
	});

	it('keeps an entry whose value is undefined, and counts reading it as a use', () => {
		const store = new MemoryStore<string, number | undefined>({ maxSize: 2 });
		store.set('a', undefined);
		store.set('b', 1);
		expect(store.get('a')).toBeUndefined();
		// a was read, so b is the least recently used
		store.set('c', 2);
		expect(store.size).toBe(2);
		expect(store.get('b')).toBeUndefined();
		expect(store.take('a')).toBeUndefined();
		expect(store.size).toBe(1);
	});

	it('takes an entry once', () => {
		const store = new MemoryStore();
		store.set('state', { v: 1 });
		expect(store.take('state')).toEqual({ v: 1 });
		expect(store.take('state')).toBeUndefined();
		expect(store.get('state')).toBeUndefined();
	});

	it('does not hand out an expired entry through take', () => {
		const time = clock();
		const store = new MemoryStore({ ttl: 10, now: time.now });
		store.set('state', 1);
		time.advance(10);
		expect(store.take('state')).toBeUndefined();
	});

	it('sweeps expired entries on writes, without a read', () => {
		const time = clock();
		const store = new MemoryStore({ ttl: 10, now: time.now });
		for (let i = 0; i < 500; i++) store.set(`old-${i}`, i);
		// the sweep works in one-second buckets: an expired entry may wait up to a second
		time.advance(1000);
		for (let i = 0; i < 500; i++) store.set(`new-${i}`, i);
		expect(store.size).toBe(500);
	});

	it(`drops at most ${SWEEP_BATCH} expired entries per write, the earliest first, until all are gone`, () => {
		const time = clock();
		const store = new MemoryStore({ now: time.now });
		for (let i = 0; i < 250; i++) store.set(`late-${i}`, i, { expiresAt: time.now() + 5000 + i });
		for (let i = 0; i < 250; i++) store.set(`early-${i}`, i, { expiresAt: time.now() + 10 + i });
		store.set('session', 'kept');
		time.advance(2000);

		store.set('write-1', 1);
		expect(store.size).toBe(502 - SWEEP_BATCH);
		// the earliest went first: no late entry was touched
		for (let i = 0; i < 250; i++) expect(store.get(`late-${i}`)).toBe(i);
		store.set('write-2', 2);
		store.set('write-3', 3);
		expect(store.size).toBe(254);
		store.set('write-4', 4);
		expect(store.size).toBe(255);

		time.advance(10_000);
		for (let i = 0; i < 3; i++) store.set(`write-${5 + i}`, i);
		expect(store.size).toBe(8);
		expect(store.get('session')).toBe('kept');
	});

	it('forgets the old expiry of a key set again', () => {
		const time = clock();
		const store = new MemoryStore({ now: time.now });
		store.set('a', 1, { expiresAt: time.now() + 500 });
		store.set('a', 2, { expiresAt: time.now() + 60_000 });
		time.advance(5000);
		store.set('b', 3);
		expect(store.get('a')).toBe(2);
		// and one set without expiry never expires
		store.set('a', 4);
		time.advance(120_000);
		store.set('c', 5);
		expect(store.get('a')).toBe(4);
	});

	it('keeps every entry without expiry, however many writes pass', () => {
		const time = clock();
		const store = new MemoryStore({ now: time.now });
		for (let i = 0; i < 5000; i++) {
			store.set(`did-${i}`, i);
			time.advance(10);
		}
		expect(store.size).toBe(5000);
		expect(store.get('did-0')).toBe(0);
	});

	it('keeps keys with unusual characters apart', () => {
		const store = new MemoryStore();
		const keys = ['did:plc:abc', 'did:web:a%3Ab', '', ' ', 'ü', '__proto__', 'constructor', 'a\nb'];
		for (const [i, key] of keys.entries()) store.set(key, i);
		for (const [i, key] of keys.entries()) expect(store.get(key)).toBe(i);
	});

	it('rejects a bad maxSize or ttl with a TypeError naming it', () => {
		expect(() => new MemoryStore({ maxSize: 0 })).toThrow(/maxSize/);
		expect(() => new MemoryStore({ maxSize: 1.5 })).toThrow(/maxSize/);
		expect(() => new MemoryStore({ ttl: 0 })).toThrow(/ttl/);
		expect(() => new MemoryStore({ ttl: Number.NaN })).toThrow(/ttl/);
		// from an environment variable: "1000" + now would be a string, and "100" an unbounded store
		expect(() => new MemoryStore({ ttl: '1000' as never })).toThrow(/ttl must be a positive number/);
		expect(() => new MemoryStore({ maxSize: '100' as never })).toThrow(/maxSize must be a positive integer/);
		expect(() => new MemoryStore({ maxSize: true as never })).toThrow(/maxSize/);
	});

	it('says which bad number it got: NaN and infinities as they are, not as JSON writes them (null)', () => {
		expect(() => new MemoryStore({ ttl: Number.NaN })).toThrow(
			new TypeError('ttl must be a positive number of milliseconds, got NaN'),
		);
		expect(() => new MemoryStore({ ttl: Number.NEGATIVE_INFINITY })).toThrow(
			new TypeError('ttl must be a positive number of milliseconds, got -Infinity'),
		);
		expect(() => new MemoryStore({ maxSize: Number.NaN })).toThrow(
			new TypeError('maxSize must be a positive integer, got NaN'),
		);
		expect(() => new MemoryStore({ ttl: '1000' as never })).toThrow(
			new TypeError('ttl must be a positive number of milliseconds, got "1000"'),
		);
		expect(() => new MemoryStore({ maxSize: null as never })).toThrow(
			new TypeError('maxSize must be a positive integer, got null'),
		);
		expect(() => new MemoryStore({ ttl: { ms: 1000 } as never })).toThrow(
			new TypeError('ttl must be a positive number of milliseconds, got object'),
		);
	});

	it('rejects a now that is not a function when constructed, not at the first expiring write', () => {
		// Date.now() (its result) instead of Date.now: it used to fail at the first set with an expiry
		const stamp = Date.now();
		expect(() => new MemoryStore({ now: stamp as never })).toThrow(
			new TypeError(
				`now must be a function returning milliseconds since the epoch (as Date.now, not its result), got ${stamp}`,
			),
		);
		expect(() => new MemoryStore({ now: null as never })).toThrow(/now must be a function.*, got null$/);
		expect(() => new MemoryStore({ now: 'Date.now' as never })).toThrow(
			/now must be a function.*, got string$/,
		);
		// left out or undefined: Date.now
		const store = new MemoryStore({ now: undefined, ttl: 60_000 });
		store.set('a', 1);
		expect(store.get('a')).toBe(1);
	});

	it('rejects options that are not an object with a TypeError saying so', () => {
		expect(() => new MemoryStore(null as never)).toThrow(
			new TypeError('MemoryStore options must be an object, got null'),
		);
		expect(() => new MemoryStore(100 as never)).toThrow(
			new TypeError('MemoryStore options must be an object, got number'),
		);
		expect(() => new MemoryStore('{"ttl":1000}' as never)).toThrow(/options must be an object, got string/);
		expect(new MemoryStore(undefined).size).toBe(0);
	});

	it('refuses an expiresAt that is not a number, keeping what was there', () => {
		const store = new MemoryStore<string, string>({ ttl: 60_000 });
		store.set('a', 'kept');
		expect(() => store.set('a', 'never expires', { expiresAt: Number.NaN })).toThrow(/expiresAt/);
		expect(() => store.set('a', 'a date', { expiresAt: new Date() as never })).toThrow(/expiresAt/);
		expect(store.get('a')).toBe('kept');
	});

	it('stores nothing set with an expiresAt already past: it takes no live entry’s place', () => {
		// mid-second: an entry expired a moment ago sits in a bucket whose second is not over
		const time = clock(1_000_500);
		const store = new MemoryStore<string, string>({ maxSize: 1, now: time.now });
		store.set('live', 'L');
		store.set('dead', 'D', { expiresAt: time.now() - 1 });
		expect(store.get('live')).toBe('L');
		expect(store.get('dead')).toBeUndefined();
		expect(store.size).toBe(1);
		// and it replaces what was there under its key
		store.set('live', 'gone', { expiresAt: time.now() });
		expect(store.get('live')).toBeUndefined();
		expect(store.size).toBe(0);
	});
});

describe('MemoryStore with compactCodec', () => {
	const value = () => ({
		tokenSet: { access_token: 'x'.repeat(10) + 'A'.repeat(900), scope: 'atproto', expires_at: 1 },
		list: [1, 2, 3],
	});

	it('gets an equal copy of what was set, through take too', () => {
		const store = new MemoryStore<string, ReturnType<typeof value>>({ codec: compactCodec });
		store.set('a', value());
		expect(store.get('a')).toEqual(value());
		expect(store.take('a')).toEqual(value());
		expect(store.get('a')).toBeUndefined();
	});

	it('isolates the stored value from callers that mutate what they set or got', () => {
		const store = new MemoryStore<string, ReturnType<typeof value>>({ codec: compactCodec });
		const given = value();
		store.set('a', given);
		given.tokenSet.scope = 'changed after set';
		const got = store.get('a')!;
		got.list.push(4);
		got.tokenSet.access_token = 'changed after get';
		expect(store.get('a')).toEqual(value());
		expect(store.get('a')).not.toBe(store.get('a'));
	});

	it('refuses a value with no JSON form and keeps the previous one', () => {
		const store = new MemoryStore<string, unknown>({ codec: compactCodec });
		store.set('a', { n: 1 });
		expect(() => store.set('a', undefined)).toThrow(TypeError);
		expect(store.get('a')).toEqual({ n: 1 });
	});

	it('expires and bounds compact entries like any other', () => {
		const time = clock();
		const store = new MemoryStore<string, { n: number }>({ codec: compactCodec, maxSize: 2, now: time.now });
		store.set('a', { n: 1 }, { expiresAt: time.now() + 1000 });
		store.set('b', { n: 2 });
		store.set('c', { n: 3 });
		expect(store.get('a')).toBeUndefined();
		time.advance(2000);
		expect(store.get('b')).toEqual({ n: 2 });
		expect(store.size).toBe(2);
	});

	it('refuses a codec without encode and decode functions', () => {
		expect(() => new MemoryStore({ codec: true as never })).toThrow(/codec/);
		expect(() => new MemoryStore({ codec: { encode: (v: unknown) => v } as never })).toThrow(/codec/);
	});

	it('keeps values through any codec given', () => {
		const kept: unknown[] = [];
		const store = new MemoryStore<string, { n: number }>({
			codec: {
				encode: (value) => {
					const text = JSON.stringify(value);
					kept.push(text);
					return text;
				},
				decode: (text) => JSON.parse(text as string),
			},
		});
		store.set('a', { n: 1 });
		expect(kept).toEqual(['{"n":1}']);
		expect(store.get('a')).toEqual({ n: 1 });
	});
});
