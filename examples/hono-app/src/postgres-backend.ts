import type { Did } from '@atcute/lexicons';
import type { LockFunction, OAuthClientStores, StoredSession, StoredState } from '@atcute/oauth-node-client';
import { createPostgresLock, PostgresStore } from '@atcute/oauth-store-postgres';
import pg from 'pg';

import type { AppSession, AppSessionStore } from './app.ts';

/** the tables the example keeps its sessions and sign-in states in. */
export const SESSIONS_TABLE = 'oauth_sessions';
export const STATES_TABLE = 'oauth_states';
/** the table of the app's own sessions (the session cookie's id → DID). */
export const APP_SESSIONS_TABLE = 'app_sessions';

/** sessions, states, the refresh lock and the app's sessions in one PostgreSQL database. */
export interface PostgresBackend {
	stores: OAuthClientStores;
	requestLock: LockFunction;
	appSessions: AppSessionStore;
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
	const appSessions = new PostgresStore<string, AppSession>({ pool, table: APP_SESSIONS_TABLE });
	const close = async (): Promise<void> => {
		await Promise.all([pool.end(), lockPool.end()]);
	};
	try {
		await Promise.all([sessions.migrate(), states.migrate(), appSessions.migrate()]);
	} catch (error) {
		await close();
		throw error;
	}
	return {
		stores: { sessions, states },
		requestLock: createPostgresLock({ pool: lockPool }),
		appSessions,
		close,
	};
};
