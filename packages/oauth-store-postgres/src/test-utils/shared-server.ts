import { inject } from 'vitest';

declare module 'vitest' {
	export interface ProvidedContext {
		/** the url of the PostgreSQL server test/global-setup.ts started for this run. */
		postgresUrl: string;
	}
}

/** the url of the PostgreSQL server every test file of this package shares (its `postgres` database). */
export const sharedPostgresUrl = (): string => inject('postgresUrl');
