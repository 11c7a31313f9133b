import { lockKey } from './lock-key.ts';

/**
 * where the package records the tables it made, with their kind and format version, in the
 * schema of those tables. a table of its own, beside the app's own migration tables.
 */
export const META_TABLE = 'atcute_oauth_schema';

/** SQLSTATEs the migration raises (class `AO`, which PostgreSQL does not use). */
export const NOT_OURS_STATE = 'AO001';
export const VERSION_TOO_NEW_STATE = 'AO002';
/**
 * under REPEATABLE READ or SERIALIZABLE, the block found a table with no meta row: its snapshot
 * may predate another process's migration, which made both. run it again (`final`): a new
 * statement takes a new snapshot, which then finds the table up to date, or truly not ours.
 */
export const RACED_STATE = 'AO003';

/** what to make (or check) and how. */
export interface TableMigration {
	/** the schema, unquoted; it must be a checked identifier. */
	schema: string;
	/** the table, unquoted; it must be a checked identifier. */
	table: string;
	/** what the table holds, recorded beside it. */
	kind: string;
	/** the statements of each version, in order: `steps[0]` makes version 1 from nothing. */
	steps: ReadonlyArray<readonly string[]>;
}

/** one advisory lock for every migration of this package, whatever the schema or table. */
const MIGRATION_LOCK = lockKey('@atcute/oauth-store-postgres:migration');

/**
 * one `DO` block that brings the table to the newest version, in one transaction. when the
 * meta table says it is up to date it returns at once; otherwise it takes a
 * transaction-level advisory lock first, so processes starting at once run it one after the
 * other and all but the first find nothing to do; it refuses a table it did not make or one made
 * by a newer version. a single statement, so it runs through any `query` (a pool included, in
 * either protocol), without a dedicated connection, and leaves the caller's isolation level alone.
 */
export const migrationSql = (migration: TableMigration, final = false): string => {
	const { schema, table, kind, steps } = migration;
	const qualified = `"${schema}"."${table}"`;
	const meta = `"${schema}"."${META_TABLE}"`;
	const latest = steps.length;
	// identifiers were checked to be letters, digits and "_": safe inside literals too
	const label = `'${schema}.${table}'`;
	const applySteps = steps
		.map(
			(statements, index) =>
				`IF current_version < ${index + 1} THEN\n${statements.map((sql) => `    ${sql};`).join('\n')}\n  END IF;`,
		)
		.join('\n  ');
	return `DO $atcute_oauth$
DECLARE
  current_kind text;
  current_version integer;
BEGIN
  -- up to date (every start but the first): nothing to lock or create, so a role that may only
  -- read and write the tables passes too
  IF to_regclass('${meta.replaceAll("'", "''")}') IS NOT NULL THEN
    SELECT kind, version INTO current_kind, current_version FROM ${meta} WHERE table_name = '${table}';
    IF current_kind = '${kind}' AND current_version = ${latest} AND to_regclass('${qualified.replaceAll("'", "''")}') IS NOT NULL THEN
      RETURN;
    END IF;
  END IF;
  -- held until this transaction ends: two processes never create or migrate at once
  PERFORM pg_advisory_xact_lock(${MIGRATION_LOCK});
  ${schema === 'public' ? '' : `CREATE SCHEMA IF NOT EXISTS "${schema}";`}
  CREATE TABLE IF NOT EXISTS ${meta} (
    table_name text PRIMARY KEY,
    kind text NOT NULL,
    version integer NOT NULL,
    migrated_at timestamptz NOT NULL DEFAULT now()
  );
  SELECT kind, version INTO current_kind, current_version FROM ${meta} WHERE table_name = '${table}';
  IF current_version IS NOT NULL AND to_regclass('${qualified.replaceAll("'", "''")}') IS NULL THEN
    -- the table was dropped after it was made (by hand, or a reset): its row describes nothing
    -- now, and the name is free again. made afresh below, rather than every query failing for
    -- good while migrate() reports it up to date
    DELETE FROM ${meta} WHERE table_name = '${table}';
    current_kind := NULL;
    current_version := NULL;
  END IF;
  IF current_version IS NULL THEN
    IF to_regclass('${qualified.replaceAll("'", "''")}') IS NOT NULL THEN
      ${
				final
					? ''
					: `-- the catalog is always current, but under REPEATABLE READ or SERIALIZABLE (a role's or
      -- database's default_transaction_isolation) rows come from the snapshot taken before the lock
      -- was granted: the meta row of a table another process just made may be missing from it
      IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'the migration of % may have raced another process; run it again', ${label}
          USING ERRCODE = '${RACED_STATE}';
      END IF;`
			}
      RAISE EXCEPTION 'table % exists but was not created by @atcute/oauth-store-postgres; choose another table', ${label}
        USING ERRCODE = '${NOT_OURS_STATE}';
    END IF;
    current_version := 0;
    INSERT INTO ${meta} (table_name, kind, version) VALUES ('${table}', '${kind}', 0);
  ELSIF current_kind <> '${kind}' THEN
    RAISE EXCEPTION 'table % is a % table, not a ${kind} table; choose another table', ${label}, current_kind
      USING ERRCODE = '${NOT_OURS_STATE}';
  ELSIF current_version > ${latest} THEN
    RAISE EXCEPTION 'table % has format version %, newer than the ${latest} this version of @atcute/oauth-store-postgres reads; upgrade the package', ${label}, current_version
      USING ERRCODE = '${VERSION_TOO_NEW_STATE}';
  END IF;
  ${applySteps}
  IF current_version < ${latest} THEN
    UPDATE ${meta} SET version = ${latest}, migrated_at = now() WHERE table_name = '${table}';
  END IF;
END
$atcute_oauth$`;
};
