/**
 * creates the database file `path`, empty and readable by its owner alone (0600), when it does not
 * exist yet; an existing file keeps its mode. why: SQLite creates a missing file with 0644 less
 * the process umask (0644 under the usual 022), and the `-wal` and `-shm` files with the database
 * file's mode: every session's refresh token and DPoP private key, and every sign-in's PKCE
 * verifier, were readable by any local user. an empty file is an empty database to SQLite. where
 * the runtime gives no `node:fs` (Workers), or for `:memory:` and `file:` URIs, the driver creates
 * it as before.
 */
export const createPrivateFile = (path: string): void => {
	if (path === ':memory:' || path.startsWith('file:')) return;
	const fs = globalThis.process?.getBuiltinModule?.('node:fs');
	if (fs === undefined) return;
	try {
		// exclusive: only a missing file is made (0600, which the umask can only narrow). one that is
		// there is not opened here at all: a read-only file must still open for reads, as before
		fs.closeSync(fs.openSync(path, 'wx', 0o600));
	} catch {
		// there already (made by another process meanwhile too), or not creatable (a read-only
		// directory): the driver opens it, or says in its own words why not
	}
};
