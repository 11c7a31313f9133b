import pg from 'pg';

export { binDirFor, type SpawnedPostgres, spawnPostgres } from './spawn-postgres.mjs';

/** a pool for tests, quiet: dropped connections are what some tests cause, and pg throws them when nobody listens. */
export const testPool = (url: string, options: pg.PoolConfig = {}): pg.Pool => {
	const pool = new pg.Pool({ connectionString: url, ...options });
	pool.on('error', () => {});
	return pool;
};

/** `url` with another database name. */
export const withDatabase = (url: string, database: string): string => {
	const next = new URL(url);
	next.pathname = `/${database}`;
	return next.toString();
};

let counter = 0;
/** a name no other test (or test file, or run) uses: lower case letters, digits and `_`. */
export const uniqueName = (label: string): string =>
	`${label}_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;

/** a database of one test file. */
export interface TestDatabase {
	name: string;
	url: string;
	/** drops it, closing its connections first. */
	drop(): Promise<void>;
}

/** a new database on the server at `url`, for one test file. */
export const createTestDatabase = async (
	url: string,
	label: string,
	/** the database's encoding, when not the server's default (UTF8); its locale is then C. */
	encoding?: string,
): Promise<TestDatabase> => {
	const name = uniqueName(label);
	const admin = new pg.Client({ connectionString: url });
	await admin.connect();
	try {
		await admin.query(
			encoding === undefined
				? `CREATE DATABASE "${name}"`
				: `CREATE DATABASE "${name}" ENCODING '${encoding}' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`,
		);
	} finally {
		await admin.end();
	}
	return {
		name,
		url: withDatabase(url, name),
		drop: async (): Promise<void> => {
			const client = new pg.Client({ connectionString: url });
			client.on('error', () => {});
			await client.connect();
			try {
				await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
			} finally {
				await client.end();
			}
		},
	};
};
