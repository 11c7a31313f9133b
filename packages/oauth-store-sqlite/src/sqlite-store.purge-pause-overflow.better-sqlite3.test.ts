import { describe, expect, it, vi } from 'vitest';

import { tempFileEach } from './internal/test-files.ts';
import { openRawDatabase } from './internal/test-raw-database.ts';
import { SqliteStore } from './sqlite-store.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a checkpointInterval near its upper bound (2^31 - 1 ms, accepted)', () => {
	let path: string;
	const toClose = tempFileEach((file) => {
		path = file;
	});

	it('still pauses the purge after a burst: the pause (1.5 × the interval) must not overflow a timer and fire after 1 ms', async () => {
		const warnings: Error[] = [];
		const onWarning = (warning: Error) => warnings.push(warning);
		process.on('warning', onWarning);
		try {
			let now = 1_700_000_000_000;
			const store = new SqliteStore({
				path,
				now: () => now,
				purgeInterval: 1,
				purgeLimit: 1,
				checkpointInterval: 2_000_000_000,
			});
			toClose.push(store);
			for (let i = 0; i < 100; i++) await store.set(`k-${i}`, i, { expiresAt: now + 1 });
			await sleep(20);
			const reader = openRawDatabase(path, { readonly: true });
			toClose.push(reader);
			const count = () => (reader.prepare('SELECT count(*) AS n FROM oauth_store').get() as { n: number }).n;

			now += 10;
			await store.set('live', 1);
			// one burst: 32 steps of one row each
			await vi.waitFor(() => expect(count()).toBeLessThanOrEqual(101 - 32), { timeout: 5_000 });
			// then a pause of some 35 days: no further step now
			await sleep(200);
			expect(count()).toBe(101 - 32);
			expect(warnings.filter((warning) => warning.name === 'TimeoutOverflowWarning')).toEqual([]);
			store.close();
		} finally {
			process.off('warning', onWarning);
		}
	});
});
