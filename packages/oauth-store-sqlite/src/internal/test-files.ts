import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** a fresh temporary directory for one test's database files, and its removal. */
export const tempDir = (): { dir: string; file: (name?: string) => string; remove: () => void } => {
	const dir = mkdtempSync(join(tmpdir(), 'oauth-store-sqlite-'));
	return {
		dir,
		file: (name = 'oauth.db') => join(dir, name),
		remove: () => rmSync(dir, { recursive: true, force: true }),
	};
};

/** the rejection of a promise (or the throw of a function), for asserting on. */
export const failure = async (run: () => unknown): Promise<unknown> => {
	try {
		await run();
	} catch (err) {
		return err;
	}
	throw new Error('expected a failure');
};
