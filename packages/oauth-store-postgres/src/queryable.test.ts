import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import type pg from 'pg';
import { describe, expect, expectTypeOf, it } from 'vitest';

import type { PgPool, PgPoolClient, PgQueryable, PgQueryResult } from './queryable.ts';

const SRC = import.meta.dirname;

/** the package's own modules: what its d.ts is built from (tests and test helpers left out). */
const shippedModules = (dir: string): string[] =>
	readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) return entry.name === 'test-utils' ? [] : shippedModules(path);
		return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
	});

/** `import … from 'pg'`, `export … from 'pg'`, `import('pg')` or `import 'pg'`, with either quote. */
const IMPORTS_PG = /\bfrom\s*['"]pg['"]|\bimport\s*\(\s*['"]pg['"]\s*\)|\bimport\s*['"]pg['"]/;

describe('the node-postgres types', () => {
	it('are not imported by any module the package ships', () => {
		// `pg` ships no types (they are in `@types/pg`, not a dependency of the user's): an import of
		// them would be kept in our d.ts, TS7016 for a user without `@types/pg`, or `any` with skipLibCheck
		const importers = shippedModules(SRC)
			.filter((path) => IMPORTS_PG.test(readFileSync(path, 'utf8')))
			.map((path) => relative(SRC, path));
		expect(importers).toEqual([]);
	});

	it("leave node-postgres's own Pool, PoolClient and Client assignable", () => {
		// checked by the typecheck (tsc covers the tests): the structural types must still fit
		expectTypeOf<pg.Pool>().toExtend<PgQueryable>();
		expectTypeOf<pg.Pool>().toExtend<PgPool>();
		expectTypeOf<pg.PoolClient>().toExtend<PgPoolClient>();
		expectTypeOf<pg.Client>().toExtend<PgQueryable>();
		// and a result of theirs is one of ours: rows keyed by column, and the row count
		expectTypeOf<pg.QueryResult<{ n: number }>>().toExtend<PgQueryResult<{ n: number }>>();
	});

	it('type the rows a query returns, never as any', () => {
		type Row = Awaited<ReturnType<PgQueryable['query']>>['rows'][number];
		expectTypeOf<Row[string]>().toBeUnknown();
	});
});
