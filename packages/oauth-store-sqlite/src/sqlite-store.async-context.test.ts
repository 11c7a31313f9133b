import { AsyncLocalStorage } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { tempDir } from './internal/test-files.ts';
import { openRawDatabase } from './internal/test-raw-database.ts';
import { SqliteStore } from './sqlite-store.ts';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('../test/context-retention-child.mjs', import.meta.url));

/** what an app keeps per request: its id (a request logger, a trace, reads it). */
const als = new AsyncLocalStorage<{ requestId: string }>();

describe("SqliteStore's housekeeping and the app's async context", () => {
	let temp: ReturnType<typeof tempDir>;
	let store: SqliteStore | undefined;

	beforeEach(() => {
		temp = tempDir();
	});
	afterEach(() => {
		store?.close();
		temp.remove();
	});

	const rows = (): number => {
		const raw = openRawDatabase(temp.file());
		try {
			return Number((raw.prepare('SELECT count(*) AS n FROM oauth_store').get() as { n: number }).n);
		} finally {
			raw.close();
		}
	};

	it('purges expired entries in the context the store was made in, not in that of the request whose write armed the purge', async () => {
		const clockReadIn: string[] = [];
		let request = false;
		store = new SqliteStore({
			path: temp.file(),
			// the clock is app code: what runs it runs in some request's context, or in none
			now: () => {
				if (!request) clockReadIn.push(als.getStore()?.requestId ?? 'none');
				return Date.now();
			},
		});
		// request A writes a state (arming the expiry purge), and ends
		request = true;
		await als.run({ requestId: 'A' }, () => store!.set('a', 1, { expiresAt: Date.now() + 20 }));
		request = false;
		// a later expiry, written outside any request: the purge re-arms for it when 'a' is purged
		await store.set('b', 2, { expiresAt: Date.now() + 60 });
		await expect.poll(rows).toBe(0);
		// the purges ran after A had ended: not A's work, nor to be kept in A's log or trace
		expect(clockReadIn).not.toContain('A');
	});

	it("lets a request's context be collected once the request is over, though its write armed a purge", async () => {
		const output = await new Promise<string>((resolve, reject) => {
			execFile(
				process.execPath,
				['--expose-gc', CHILD, temp.file()],
				{ cwd: PACKAGE_DIR },
				(error, stdout, stderr) =>
					error ? reject(new Error(`${error.message}: ${stderr}`)) : resolve(stdout),
			);
		});
		// the purge's timer, armed for the state's expiry 10 minutes on, held it until then (and
		// passed it on to the purge after that)
		expect(JSON.parse(output)).toEqual({ retained: false });
	});
});
