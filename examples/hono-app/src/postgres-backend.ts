import type { Did } from '@atcute/lexicons';
import type { LockFunction, OAuthClientStores, StoredSession, StoredState } from '@atcute/oauth-node-client';
import { createPostgresLock, PostgresStore } from '@atcute/oauth-store-postgres';
import pg from 'pg';

/** the tables the example keeps its sessions and sign-in states in. */
export const SESSIONS_TABLE = 'oauth_sessions';
export const STATES_TABLE = 'oauth_states';

/** sessions, states and the refresh lock in one PostgreSQL database. */
export interface PostgresBackend {
	stores: OAuthClientStores;
	requestLock: LockFunction;
	/** ends both pools. */
	close(): Promise<void>;
}

/**
 * opens the example's PostgreSQL backend on `databaseUrl` (`DATABASE_URL`): a pool for the stores
 * and one for the lock (a held lock keeps a connection for the length of a refresh, which the
 * stores' queries must never wait for). the tables are made before the app listens, so a database
 * that cannot be used fails at startup.
 */
export const openPostgresBackend = async (databaseUrl: string): Promise<PostgresBackend> => {
	const pool = new pg.Pool({ connectionString: databaseUrl });
	const lockPool = new pg.Pool({ connectionString: databaseUrl, max: 5 });
	// an idle connection that drops (a database restart) is replaced on the next query; without a
	// listener node-postgres would throw it and end the process
	for (const each of [pool, lockPool]) each.on('error', () => {});
	const sessions = new PostgresStore<Did, StoredSession>({ pool, table: SESSIONS_TABLE });
	const states = new PostgresStore<string, StoredState>({ pool, table: STATES_TABLE });
	const close = async (): Promise<void> => {
		await Promise.all([pool.end(), lockPool.end()]);
	};
	try {
		await Promise.all([sessions.migrate(), states.migrate()]);
	} catch (error) {
		await close();
		throw error;
	}
	return {
		stores: { sessions, states },
		requestLock: createPostgresLock({ pool: lockPool }),
		close,
	};
};
