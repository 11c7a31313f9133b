import type { TestProject } from 'vitest/node';

import { spawnPostgres } from '../src/test-utils/postgres-server.ts';

// one PostgreSQL server for every test file of this package, for the whole run: each file makes
// a database of its own on it. the test that restarts a server starts its own.
export default async function startSharedPostgres(project: TestProject): Promise<() => Promise<void>> {
	const server = await spawnPostgres('shared');
	project.provide('postgresUrl', server.url);
	// stopped by its pid, with its data directory removed
	return () => server.close();
}
