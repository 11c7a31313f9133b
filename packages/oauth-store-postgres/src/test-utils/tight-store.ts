import { PostgresStore, type PostgresStoreOptions } from '../postgres-store.ts';

/**
 * a store with a tight `timeout`, on a table made beforehand by one with the default limit. a test
 * gives a store a few hundred milliseconds for the statement it is about; the migration on its
 * first call is not that statement, and on a loaded machine (test files run side by side) it can
 * take longer than that and fail the test for the wrong reason.
 */
export const tightStore = async <K extends string, V>(
	options: PostgresStoreOptions & { timeout: number },
): Promise<PostgresStore<K, V>> => {
	await new PostgresStore({ ...options, timeout: undefined }).migrate();
	return new PostgresStore<K, V>({ ...options, migrate: false });
};
