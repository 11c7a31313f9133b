import { describe, expect, it } from 'vitest';

import { lockFileEach } from './internal/test-lock-file.ts';

// a lock name is text in the lease table, and SQLite keeps text as UTF-8, which has no lone UTF-16
// surrogate: node:sqlite and bun:sqlite store U+FFFD in its place (so every such name is one row),
// better-sqlite3 bytes of its own (ED A0 80 for U+D800). two processes on one file, one on each
// driver, would each hold "the same" name in a row of its own, both at once
describe('createSqliteLock: names with a lone surrogate', () => {
	const { open, raw } = lockFileEach();
	const leases = () => raw().prepare('SELECT name FROM oauth_locks').all() as { name: string }[];

	it('refuses the name with a TypeError, running nothing and writing no lease', async () => {
		const lock = open();
		for (const name of ['oauth-session-x\ud800', 'oauth-session-x\udc00', '\udbffname']) {
			let ran = false;
			const error = await lock(name, async () => {
				ran = true;
				expect(leases()).toHaveLength(1);
			}).catch((err: unknown) => err);
			expect(error).toBeInstanceOf(TypeError);
			expect((error as Error).message).toMatch(/lone UTF-16 surrogate/);
			expect(ran).toBe(false);
		}
		expect(leases()).toEqual([]);
	});

	it('takes a name with a whole surrogate pair as before', async () => {
		const lock = open();
		const name = 'oauth-session-\u{1f600}';
		await lock(name, async () => {
			expect(leases().map((lease) => lease.name)).toEqual([name]);
		});
	});
});
