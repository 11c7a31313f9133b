import { describe, expect, it } from 'vitest';

import { leaveKilledHolder } from './internal/test-killed-holder.ts';
import { lockFileEach } from './internal/test-lock-file.ts';
import { openRawDatabase } from './internal/test-raw-database.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("createSqliteLock's sweep of leases that ran out", () => {
	const { path, open, raw } = lockFileEach();
	const rows = () => {
		const database = openRawDatabase(path(), { readonly: true });
		try {
			return database.prepare('SELECT name, owner, expires_at FROM oauth_locks ORDER BY name').all() as {
				name: string;
				owner: string;
				expires_at: number;
			}[];
		} finally {
			database.close();
		}
	};

	it('deletes, a bounded batch now and then, the rows a killed holder left for names nobody locks again', async () => {
		await leaveKilledHolder(path(), 200, 300);
		expect(rows()).toHaveLength(200);
		// past the child's lease
		await sleep(400);

		// a clock a minute ahead: past the grace a sweep leaves to a stalled holder (its own lease,
		// and a minute at least)
		const lock = open({ lease: 300, now: () => Date.now() + 60_000 });
		// one sweep: at most 32 rows go, not the whole backlog at once
		for (let i = 0; i < 64; i++) await lock(`did:plc:live${i}`, async () => {});
		expect(rows()).toHaveLength(200 - 32);
		for (let i = 0; i < 64 * 6; i++) await lock(`did:plc:live${i}`, async () => {});
		expect(rows()).toEqual([]);
	}, 30_000);

	it('never deletes a live lease, nor one that ran out less than a lease ago', async () => {
		const lease = 60_000;
		const time = Date.now();
		const lock = open({ lease });
		await lock('did:plc:setup', async () => {});
		const insert = raw().prepare('INSERT INTO oauth_locks (name, owner, expires_at) VALUES (?, ?, ?)');
		insert.run('did:plc:live', 'another-process', time + lease);
		insert.run('did:plc:just-ran-out', 'a-stalled-holder', time - lease / 2);
		insert.run('did:plc:long-gone', 'a-crashed-holder', time - 2 * lease);

		for (let i = 0; i < 64; i++) await lock(`did:plc:other${i}`, async () => {});
		expect(rows().map((row) => row.name)).toEqual(['did:plc:just-ran-out', 'did:plc:live']);
	});

	it("leaves a row that ran out less than a minute ago, even when the sweeping lock's own lease is shorter", async () => {
		const time = Date.now();
		const lock = open({ lease: 300 });
		await lock('did:plc:setup', async () => {});
		const insert = raw().prepare('INSERT INTO oauth_locks (name, owner, expires_at) VALUES (?, ?, ?)');
		// a holder in another process with a 60 s lease, stalled 30 s past it: its next renewal
		// still finds its row and keeps it, unless a sweep deleted it ('taken')
		insert.run('did:plc:stalled', 'a-holder-with-a-long-lease', time - 30_000);
		insert.run('did:plc:long-gone', 'a-crashed-holder', time - 61_000);

		for (let i = 0; i < 64; i++) await lock(`did:plc:other${i}`, async () => {});
		expect(rows().map((row) => row.name)).toEqual(['did:plc:stalled']);
	});
});
