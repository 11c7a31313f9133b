// one class for every lock adapter, defined beside LockTimeoutError
export { LockUnavailableError } from '@atcute/oauth-client';
export {
	type LeaseLostEvent,
	type LeaseLostReason,
	type SqliteOperation,
	StoreSchemaError,
	type StoreSchemaErrorCode,
	StoreUnavailableError,
} from './errors.ts';
export type { SqliteDatabase, SqliteStatement } from './sqlite-database.ts';
export { createSqliteLock, type SqliteLock, type SqliteLockOptions } from './sqlite-lock.ts';
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.ts';
