import { StoreUnavailableError } from '../errors.ts';
import { PostgresStore, type PostgresStoreOptions } from '../postgres-store.ts';

/** how many times the tight store's own migration is tried before the test fails. */
const ATTEMPTS = 10;

/**
 * a store with a tight `timeout`, its migration done before the test's statement. a test gives a
 * store a few hundred milliseconds for the statement it is about; the migration on its first call
 * is not that statement, and on a loaded machine (test files run side by side) it can take longer
 * than that and fail the test for the wrong reason. so a store with the default limit makes the
 * table, then the tight store (migrating on its own, as an app's does: the path under test) runs
 * its migration, which finds the table made, again while the machine is too busy for its limit.
 */
export const tightStore = async <K extends string, V>(
	options: PostgresStoreOptions & { timeout: number },
): Promise<PostgresStore<K, V>> => {
	await new PostgresStore({ ...options, timeout: undefined }).migrate();
	const store = new PostgresStore<K, V>(options);
	for (let attempt = 1; ; attempt++) {
		try {
			await store.migrate();
			return store;
		} catch (err) {
			if (!(err instanceof StoreUnavailableError) || attempt === ATTEMPTS) throw err;
		}
	}
};
