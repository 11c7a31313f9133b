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

/**
 * a statement for a step, put before the one that makes `name` (an index of `table`) in `schema`,
 * all three checked identifiers: a relation of that name already there (another store's table
 * `<table>_expires_at_idx`, an app's table or view) is refused as `not_ours`, naming it, instead of
 * failing the step with "relation already exists". the migration is one statement, so nothing it
 * did before (the table, its meta row) is kept, and the other relation is left alone.
 */
export const refuseTakenName = (schema: string, table: string, name: string): string =>
	`IF pg_catalog.to_regclass('"${schema}"."${name}"') IS NOT NULL THEN
      RAISE EXCEPTION 'relation %, which table % needs for its index, exists but was not created by @atcute/oauth-store-postgres for it; choose another table', '${schema}.${name}', '${schema}.${table}'
        USING ERRCODE = '${NOT_OURS_STATE}';
    END IF`;

/** one advisory lock for every migration of this package, whatever the schema or table. */
const MIGRATION_LOCK = lockKey('@atcute/oauth-store-postgres:migration');

/**
 * one `DO` block that brings the table to the newest version, in one transaction. when the
 * meta table records the table, it decides from that row and the catalog alone, before any lock
 * or DDL: up to date (it returns at once), a table of another kind (`not_ours`) or one a newer
 * version made (`version_too_new`), so a role that may only read and write the tables gets the
 * right answer. otherwise it takes a transaction-level advisory lock first, so processes starting
 * at once run it one after the other and all but the first find nothing to do, and creates only
 * what is missing (the schema, the meta table): a role that owns its schema, without CREATE on the
 * database, migrates too. it refuses a table it did not make or one made by a newer version, unless
 * that version recorded (`compatible_from`, a column it adds) that this one still reads and writes
 * its format: then the table is used as it is, through a rolling deploy or after a rollback. a
 * single statement, so it runs through any `query` (a pool included, in either protocol), without
 * a dedicated connection, and leaves the caller's isolation level alone. every function is named
 * with pg_catalog: `to_jsonb` takes anyelement, so one taking the meta table's row type in a schema
 * of the search_path (`public`, writable by every role before PostgreSQL 15) would be chosen over
 * it, and run as the migrating role (CVE-2018-1058).
 */
export const migrationSql = (migration: TableMigration, final = false): string => {
	const { schema, table, kind, steps } = migration;
	const qualified = `"${schema}"."${table}"`;
	const meta = `"${schema}"."${META_TABLE}"`;
	const latest = steps.length;
	// identifiers were checked to be letters, digits and "_": safe inside literals too
	const label = `'${schema}.${table}'`;
	const tableFound = `pg_catalog.to_regclass('${qualified.replaceAll("'", "''")}') IS NOT NULL`;
	const metaFound = `pg_catalog.to_regclass('${meta.replaceAll("'", "''")}') IS NOT NULL`;
	const notOurs = `RAISE EXCEPTION 'table % exists but was not created by @atcute/oauth-store-postgres; choose another table', ${label}
        USING ERRCODE = '${NOT_OURS_STATE}';`;
	const otherKind = `RAISE EXCEPTION 'table % is a % table, not a ${kind} table; choose another table', ${label}, current_kind
      USING ERRCODE = '${NOT_OURS_STATE}';`;
	// every column through to_jsonb: `compatible_from` is there only once a newer release added it
	const readRow = `SELECT kind, version, (pg_catalog.to_jsonb(m) ->> 'compatible_from')::integer
      INTO current_kind, current_version, current_compatible FROM ${meta} AS m WHERE table_name = '${table}';`;
	// a newer format this version does not work with: one whose release did not record (in
	// compatible_from) that this version's still reads and writes the table
	const notForUs = `current_version > ${latest} AND (current_compatible IS NULL OR current_compatible > ${latest})`;
	const tooNew = `RAISE EXCEPTION 'table % has format version %, newer than the ${latest} this version of @atcute/oauth-store-postgres reads; upgrade the package', ${label}, current_version
      USING ERRCODE = '${VERSION_TOO_NEW_STATE}';`;
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
  current_compatible integer;
BEGIN
  -- a table the meta table records (every start but the first): up to date, or refused, decided
  -- from its row and the catalog with nothing to lock or create, so a role that may only read and
  -- write the tables gets the answer too, not "permission denied"
  IF ${metaFound} THEN
    ${readRow}
    IF current_version IS NOT NULL AND ${tableFound} THEN
      IF current_kind <> '${kind}' THEN
        ${otherKind}
      ELSIF ${notForUs} THEN
        ${tooNew}
      ELSIF current_version >= ${latest} THEN
        -- this version's format, or a newer one its release says this version works with
        RETURN;
      END IF;
    END IF;
  END IF;
  -- held until this transaction ends: two processes never create or migrate at once
  PERFORM pg_catalog.pg_advisory_xact_lock(${MIGRATION_LOCK});
  -- name lookups (to_regclass above) are cached, and what another process committed while this
  -- one waited reaches the cache only when a catalog is next locked: reading pg_class does that
  -- (unless this transaction read it already), so the checks below see the catalog as it is now
  PERFORM FROM pg_catalog.pg_class WHERE false;
  -- only what is missing is created: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database, and
  -- CREATE TABLE IF NOT EXISTS CREATE on the schema, even when there is nothing to create. (IF NOT
  -- EXISTS all the same, for a creator that does not take the lock, such as the app's own migration)
  ${
		schema === 'public'
			? ''
			: `IF pg_catalog.to_regnamespace('"${schema}"') IS NULL THEN
    CREATE SCHEMA IF NOT EXISTS "${schema}";
  END IF;`
	}
  IF NOT ${metaFound} THEN
    -- nothing recorded in this schema, and the catalog is current whatever the isolation level
    IF ${tableFound} THEN
      ${notOurs}
    END IF;
    CREATE TABLE IF NOT EXISTS ${meta} (
      table_name text PRIMARY KEY,
      kind text NOT NULL,
      version integer NOT NULL,
      migrated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
    );
  END IF;
  ${readRow}
  IF current_version IS NOT NULL AND NOT ${tableFound} THEN
    -- the table was dropped after it was made (by hand, or a reset): its row describes nothing
    -- now, and the name is free again. made afresh below, rather than every query failing for
    -- good while migrate() reports it up to date
    DELETE FROM ${meta} WHERE table_name = '${table}';
    current_kind := NULL;
    current_version := NULL;
    current_compatible := NULL;
  END IF;
  IF current_version IS NULL THEN
    IF ${tableFound} THEN
      ${
				final
					? ''
					: `-- the catalog is always current, but under REPEATABLE READ or SERIALIZABLE (a role's or
      -- database's default_transaction_isolation) rows come from the snapshot taken before the lock
      -- was granted: the meta row of a table another process just made may be missing from it
      IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'the migration of % may have raced another process; run it again', ${label}
          USING ERRCODE = '${RACED_STATE}';
      END IF;`
			}
      ${notOurs}
    END IF;
    current_version := 0;
    INSERT INTO ${meta} (table_name, kind, version) VALUES ('${table}', '${kind}', 0);
  ELSIF current_kind <> '${kind}' THEN
    ${otherKind}
  ELSIF ${notForUs} THEN
    ${tooNew}
  END IF;
  ${applySteps}
  IF current_version < ${latest} THEN
    UPDATE ${meta} SET version = ${latest}, migrated_at = pg_catalog.now() WHERE table_name = '${table}';
  END IF;
END
$atcute_oauth$`;
};
