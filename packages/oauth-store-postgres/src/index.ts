// one class for every lock adapter, defined beside LockTimeoutError
export { LockUnavailableError } from '@atcute/oauth-client';
export {
	DEFAULT_HEARTBEAT_MS,
	DEFAULT_LOCK_PREFIX,
	DEFAULT_TIMEOUT_MS,
	DEFAULT_WAIT_MS,
} from './constants.ts';
export { createPostgresLock, type PostgresLockOptions } from './create-postgres-lock.ts';
export {
	type LeaseLostEvent,
	type LeaseLostReason,
	PostgresStoreError,
	type PostgresStoreErrorCode,
	type StoreOperation,
	StoreUnavailableError,
} from './errors.ts';
export { PostgresStore, type PostgresStoreOptions } from './postgres-store.ts';
export type { PgPool, PgPoolClient, PgQuery, PgQueryable, PgQueryResult, PgRow } from './queryable.ts';
