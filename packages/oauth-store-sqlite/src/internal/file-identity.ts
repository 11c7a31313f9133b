/**
 * why a store or lock refuses to write a file opened from `path` that was deleted or replaced
 * since (see `StoreUnavailableError`, not transient: only a new connection reaches the file now
 * at the path).
 */
export const FILE_REPLACED_REASON =
	'the database file was deleted or replaced since it was opened, and what is written to it would be lost: restart the process to open the file now at the path';

/**
 * a check that `path` still names the file a connection opened from it: `true` once the file was
 * deleted, or replaced by another (a backup restored with `mv`, a volume remounted). why: SQLite
 * goes on reading and writing the file it has open, deleted or not, without an error: every
 * session written after that is gone at the next start, and a process started meanwhile opens
 * (or creates) the file now at `path`, whose lock rows are not the running processes': both would
 * refresh one account and spend its refresh token twice. `undefined` where it cannot be told:
 * `:memory:`, `file:` URIs, no `node:fs` (Workers), a file that is not there to begin with.
 */
export const watchFileIdentity = (path: string): (() => boolean) | undefined => {
	if (path === ':memory:' || path.startsWith('file:')) return undefined;
	const builtin = globalThis.process?.getBuiltinModule;
	const fs = builtin?.('node:fs');
	const paths = builtin?.('node:path');
	if (fs === undefined || paths === undefined) return undefined;
	// absolute, as SQLite keeps it: a process that changes its working directory later has not
	// replaced the file
	path = paths.resolve(path);
	// bigint: inode numbers past 2^53 (some file systems) would compare equal as numbers
	const opened = fs.statSync(path, { bigint: true, throwIfNoEntry: false });
	if (opened === undefined) return undefined;
	return () => {
		let now: ReturnType<typeof fs.statSync>;
		try {
			now = fs.statSync(path, { bigint: true, throwIfNoEntry: false });
		} catch {
			// cannot tell (the directory made unreadable): SQLite's own errors say what fails
			return false;
		}
		return now === undefined || now.ino !== opened.ino || now.dev !== opened.dev;
	};
};
