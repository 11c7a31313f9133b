import { LockTimeoutError, LockUnavailableError } from '@atcute/oauth-client';
import { describe, expect, it, vi } from 'vitest';

import { type LeaseLostEvent, StoreUnavailableError } from './errors.ts';
import { lockFileEach } from './internal/test-lock-file.ts';
import { createSqliteLock } from './sqlite-lock.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createSqliteLock', () => {
	const { path, open, raw } = lockFileEach();
	const leases = () =>
		raw().prepare('SELECT name, expires_at FROM oauth_locks').all() as { name: string; expires_at: number }[];

	it('leaves no lease behind once the holder is done, whether it returned or threw', async () => {
		const lock = open();
		await lock('did:plc:a', async () => {
			expect(leases().map((lease) => lease.name)).toEqual(['did:plc:a']);
		});
		await expect(lock('did:plc:a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
		expect(leases()).toEqual([]);
	});

	it('takes over the lease of a holder that died without releasing, once it has run out', async () => {
		const lock = open({ timeout: 5_000 });
		const expiresAt = Date.now() + 200;
		raw()
			.prepare("INSERT INTO oauth_locks (name, owner, expires_at) VALUES ('did:plc:a', 'crashed', ?)")
			.run(expiresAt);
		let acquiredAt = 0;
		await lock('did:plc:a', async () => {
			acquiredAt = Date.now();
		});
		expect(acquiredAt).toBeGreaterThanOrEqual(expiresAt);
	});

	it('renews its lease while the holder runs longer than it', async () => {
		// renewed every 200 ms: a renewal may come 400 ms late (a loaded machine, test files run side
		// by side) before the lease runs out; with 150 ms, 100 ms late was enough to fail the test
		const holder = open({ lease: 600 });
		const waiter = open({ timeout: 2_000 });
		const error = await holder('did:plc:a', async () => {
			// over three leases long: without renewal the waiter would get in
			return waiter('did:plc:a', async () => 'got in').catch((err: unknown) => err);
		});
		expect(error).toBeInstanceOf(LockTimeoutError);
	});

	it("does not free its successor's lease when its own ran out (compare-and-delete), and reports the loss", async () => {
		const reports: LeaseLostEvent[] = [];
		const first = open({ onLeaseLost: (event) => reports.push(event) });
		const second = open();
		const third = open({ timeout: 300 });
		let releaseSecond!: () => void;
		let secondHolds!: () => void;
		const secondIn = new Promise<void>((resolve) => (secondHolds = resolve));

		let secondDone: Promise<unknown> | undefined;
		await first('did:plc:a', async () => {
			// the first holder's lease runs out under it (a stalled process)
			raw().prepare("UPDATE oauth_locks SET expires_at = 0 WHERE name = 'did:plc:a'").run();
			secondDone = second('did:plc:a', async () => {
				secondHolds();
				await new Promise<void>((resolve) => (releaseSecond = resolve));
			});
			await secondIn;
		});
		// the first holder released: the second must still hold the name
		await expect(third('did:plc:a', async () => 'got in')).rejects.toBeInstanceOf(LockTimeoutError);
		// the first holder found out at release (no renewal ran in between), once
		expect(reports).toEqual([{ name: 'did:plc:a', reason: 'taken', heldMs: expect.any(Number) }]);
		releaseSecond();
		await secondDone;
		await expect(third('did:plc:a', async () => 'got in')).resolves.toBe('got in');
	});

	it('reports, while the holder still runs, a lease taken over after it ran out; the result is kept', async () => {
		const reports: Array<LeaseLostEvent & { running: boolean }> = [];
		let running = false;
		const holder = open({ lease: 150, onLeaseLost: (event) => reports.push({ ...event, running }) });
		const other = open({ timeout: 1_000 });
		const result = await holder('did:plc:a', async (signal) => {
			running = true;
			expect(signal?.aborted).toBe(false);
			// the holder stalls past its lease, and another process takes the name
			raw().prepare("UPDATE oauth_locks SET expires_at = 0 WHERE name = 'did:plc:a'").run();
			await other('did:plc:a', async (theirs) => {
				// a renewal (every 50 ms) finds the row another's
				await expect.poll(() => reports.length, { timeout: 2_000, interval: 10 }).toBe(1);
				// aborted with the report, so a refresh not yet sent is not sent; the new holder's is not
				expect(signal?.aborted).toBe(true);
				expect(theirs?.aborted).toBe(false);
			});
			running = false;
			return 'refreshed';
		});
		expect(result).toBe('refreshed');
		// reported once, not again at release
		expect(reports).toEqual([
			{ name: 'did:plc:a', reason: 'taken', heldMs: expect.any(Number), running: true },
		]);
		expect(reports[0]!.heldMs).toBeGreaterThan(0);
	});

	it('reports a lease it could not renew for a whole lease as unconfirmed', async () => {
		const reports: LeaseLostEvent[] = [];
		const holder = open({ lease: 300, busyTimeout: 5, onLeaseLost: (event) => reports.push(event) });
		const result = await holder('did:plc:a', async () => {
			// another process keeps the database's write lock for longer than the lease
			const other = raw();
			other.exec('BEGIN IMMEDIATE');
			await expect.poll(() => reports.length, { timeout: 3_000, interval: 10 }).toBe(1);
			other.exec('COMMIT');
			return 'done';
		});
		expect(result).toBe('done');
		expect(reports).toEqual([{ name: 'did:plc:a', reason: 'unconfirmed', heldMs: expect.any(Number) }]);
		// not before a whole lease had passed without a renewal
		expect(reports[0]!.heldMs).toBeGreaterThanOrEqual(300);
	});

	it('keeps renewing a lease it reported unconfirmed, so that it does not run out under the holder once the database is back', async () => {
		const reports: LeaseLostEvent[] = [];
		// renewed every 200 ms, so that renewals a little late on a loaded machine keep the lease
		const holder = open({ lease: 600, busyTimeout: 5, onLeaseLost: (event) => reports.push(event) });
		const waiter = open({ timeout: 1_800 });
		const reader = raw();
		const leaseLeft = () =>
			(reader.prepare('SELECT expires_at FROM oauth_locks').get() as { expires_at: number }).expires_at -
			Date.now();
		const result = await holder('did:plc:a', async () => {
			// another process keeps the database's write lock for longer than the lease
			const other = raw();
			other.exec('BEGIN IMMEDIATE');
			await expect.poll(() => reports.length, { timeout: 3_000, interval: 10 }).toBe(1);
			other.exec('COMMIT');
			// the row is still ours: the next renewal (every 200 ms) extends it again
			await expect.poll(leaseLeft, { timeout: 2_000, interval: 10 }).toBeGreaterThan(400);
			// three leases more: had the renewals stopped, the waiter would take the lease over
			return waiter('did:plc:a', async () => 'got in').catch((err: unknown) => err);
		});
		expect(result).toBeInstanceOf(LockTimeoutError);
		// reported once, not again when renewals got through
		expect(reports).toEqual([{ name: 'did:plc:a', reason: 'unconfirmed', heldMs: expect.any(Number) }]);
	});

	it('warns by default when a lease is lost while held', async () => {
		const warning = vi.fn();
		process.on('warning', warning);
		try {
			const lock = open();
			await lock('did:plc:a', async () => {
				// taken over under it; its release finds the row gone
				raw().prepare("UPDATE oauth_locks SET owner = 'another' WHERE name = 'did:plc:a'").run();
			});
			await expect.poll(() => warning.mock.calls.length).toBe(1);
			expect(warning.mock.calls[0]![0]).toMatchObject({
				name: 'LeaseLostWarning',
				code: 'ATCUTE_OAUTH_LEASE_LOST',
				message: expect.stringContaining('"did:plc:a"'),
			});
		} finally {
			process.off('warning', warning);
		}
	});

	it('keeps separate tables of locks apart', async () => {
		const a = open({ table: 'locks_a' });
		const b = open({ table: 'locks_b', timeout: 1_000 });
		await a('did:plc:a', async () => {
			await expect(b('did:plc:a', async () => 'in')).resolves.toBe('in');
		});
	});

	it("fails with LockUnavailableError (SQLite's StoreUnavailableError its cause), not a timeout, once its connection is gone", async () => {
		const lock = open();
		lock.close();
		let ran = false;
		const error = await lock('did:plc:a', async () => {
			ran = true;
		}).catch((err: unknown) => err);
		// the class the Redis and PostgreSQL locks throw, which callers of the client branch on
		expect(error).toBeInstanceOf(LockUnavailableError);
		// a closed connection stays closed: a caller that follows `transient` must not retry for ever
		expect(error).toMatchObject({ code: 'ERR_LOCK_UNAVAILABLE', lockName: 'did:plc:a', transient: false });
		expect((error as Error).cause).toBeInstanceOf(StoreUnavailableError);
		expect((error as Error).cause).toMatchObject({ operation: 'lock', transient: false });
		expect(ran).toBe(false);
	});

	it('closed while a holder runs: refuses new locks, keeps renewing the held lease, and releases it when the holder ends', async () => {
		// renewed every 200 ms: a renewal may come 400 ms late (a loaded machine) before the lease runs out
		const lock = open({ lease: 600 });
		const other = open({ timeout: 5_000 });
		let released = false;
		const held = lock('did:plc:a', async () => {
			// a shutdown hook closes the lock while a refresh is in flight
			lock.close();
			// a new lock of this process is refused at once, even while the connection stays open
			await expect(lock('did:plc:b', async () => 'in')).rejects.toMatchObject({
				code: 'ERR_LOCK_UNAVAILABLE',
				transient: false,
			});
			// three leases long: the lease is renewed all the while, so no other process gets in
			await sleep(1_800);
			released = true;
			return 'refreshed';
		});
		const taken = await other('did:plc:a', async () => released);
		expect(taken).toBe(true);
		await expect(held).resolves.toBe('refreshed');
		// the lease was released at the end, not left to run out
		expect(leases()).toEqual([]);
	});

	it('waits out another process holding the database write lock, within its timeout', async () => {
		const lock = open({ busyTimeout: 20, timeout: 2_000 });
		const other = raw();
		other.exec('BEGIN IMMEDIATE');
		const acquired = lock('did:plc:a', async () => 'in');
		await sleep(100);
		other.exec('COMMIT');
		await expect(acquired).resolves.toBe('in');
	});

	it('rejects bad options with a TypeError naming them', () => {
		expect(() => createSqliteLock({ path: path(), timeout: 0 })).toThrow(/timeout/);
		expect(() => createSqliteLock({ path: path(), lease: Number.NaN })).toThrow(/lease/);
		expect(() => createSqliteLock({ path: path(), table: 'bad name' })).toThrow(/table/);
		expect(() => createSqliteLock({})).toThrow(
			new TypeError('give exactly one of database (an open connection) and path (a file), got neither'),
		);
		// biome-ignore lint/suspicious/noExplicitAny: a caller without types
		expect(() => createSqliteLock({ path: path(), onLeaseLost: 'log' as any })).toThrow(/onLeaseLost/);
	});

	it('refuses options that are not an object with a TypeError saying so', () => {
		// biome-ignore lint/suspicious/noExplicitAny: a caller without types
		const create = createSqliteLock as any;
		expect(() => create()).toThrow(
			new TypeError('createSqliteLock options must be an object ({ path } or { database }), got undefined'),
		);
		expect(() => create(null)).toThrow(
			new TypeError('createSqliteLock options must be an object ({ path } or { database }), got null'),
		);
	});

	it('rejects an empty lock name and a holder that is not a function, running nothing', async () => {
		const lock = open();
		await expect(lock('', async () => 'in')).rejects.toThrow(/non-empty string/);
		// biome-ignore lint/suspicious/noExplicitAny: a caller without types
		await expect(lock('did:plc:a', 'fn' as any)).rejects.toThrow(/fn must be a function/);
		expect(leases()).toEqual([]);
	});
});
