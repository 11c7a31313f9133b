import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach } from 'vitest';

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

/** what a test opened and the file's clean-up closes first. */
export interface Closable {
	close(): unknown;
}

/**
 * a fresh database file in a temporary directory for each test of the calling `describe`, handed
 * to `onFile` before each test; after each, what the test pushed onto the returned list is closed
 * and the directory removed.
 */
export const tempFileEach = (onFile: (path: string) => void): Closable[] => {
	const toClose: Closable[] = [];
	let temp: ReturnType<typeof tempDir> | undefined;
	beforeEach(() => {
		temp = tempDir();
		onFile(temp.file());
	});
	afterEach(() => {
		for (const handle of toClose.splice(0)) handle.close();
		temp?.remove();
	});
	return toClose;
};
