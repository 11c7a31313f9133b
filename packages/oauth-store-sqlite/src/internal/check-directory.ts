/**
 * throws when the directory of a file `path` does not exist, with better-sqlite3's own words for
 * it. node:sqlite and bun:sqlite report a missing directory as SQLITE_CANTOPEN ("unable to open
 * database file"), the code also given for what may pass (too many open files), so a wrong path
 * would read as worth retrying for ever. where the runtime gives no `node:fs` (Workers), or for
 * `:memory:` and `file:` URIs, the driver decides as before.
 * @throws {TypeError} when the directory does not exist
 */
export const checkDirectoryOf = (path: string): void => {
	if (path === ':memory:' || path.startsWith('file:')) return;
	const builtin = globalThis.process?.getBuiltinModule;
	const fs = builtin?.('node:fs');
	const paths = builtin?.('node:path');
	if (fs === undefined || paths === undefined) return;
	if (!fs.existsSync(paths.dirname(paths.resolve(path)))) {
		throw new TypeError('Cannot open database because the directory does not exist');
	}
};
