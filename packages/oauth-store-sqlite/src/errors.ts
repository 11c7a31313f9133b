import { isPassing, sqliteCodeOf } from './internal/sqlite-code.ts';

/** what the store or lock was doing when SQLite failed. */
export type SqliteOperation = 'open' | 'get' | 'set' | 'delete' | 'clear' | 'take' | 'purge' | 'lock';

/**
 * SQLite could not be used: the file could not be opened, no driver is installed, another
 * process held the database past the busy timeout, or the connection was closed. nothing was
 * read or written; in particular a `get` that throws this says nothing about whether a session
 * exists. `cause` holds the driver's error; messages never hold keys or values.
 */
export class StoreUnavailableError extends Error {
	override name = 'StoreUnavailableError';
	/** the SQLite result code (`SQLITE_BUSY`, `SQLITE_CANTOPEN`, …), when the driver gave one. */
	readonly sqliteCode: string | undefined;
	/**
	 * true when trying again later may work: the database was busy or locked, the disk full, an I/O
	 * error, out of memory, the file could not be opened for now. false for what stays so: a closed
	 * connection, a read-only, corrupt or foreign file, a stored value that is not JSON, no driver.
	 */
	readonly transient: boolean;

	constructor(
		/** what was being done. */
		readonly operation: SqliteOperation,
		/** why, in words that hold no key or value. */
		reason: string,
		options?: ErrorOptions,
	) {
		const sqliteCode = sqliteCodeOf(options?.cause);
		super(`SQLite ${operation} failed${sqliteCode ? ` (${sqliteCode})` : ''}: ${reason}`, options);
		this.sqliteCode = sqliteCode;
		this.transient = isPassing(options?.cause);
	}
}

/** why a table cannot be used. */
export type StoreSchemaErrorCode =
	/** a newer version of this package made it, in a format this version does not know. */
	| 'version_too_new'
	/** a table of that name exists but this package did not make it, or made it for the other kind (store or lock). */
	| 'not_ours';

/**
 * the table is not one this version of the package can use. nothing was changed: upgrade the
 * package, or choose another `table`.
 */
export class StoreSchemaError extends Error {
	override name = 'StoreSchemaError';

	constructor(
		/** why. */
		readonly code: StoreSchemaErrorCode,
		/** the table. */
		readonly table: string,
		message: string,
	) {
		super(message);
	}
}

/** how a holder found its lease lost while it still ran. */
export type LeaseLostReason =
	/** another holder has the name, or had it and let go (the row is no longer this holder's): the lease ran out under a stalled holder and was taken over. */
	| 'taken'
	/** no renewal got through (the database stayed busy or failed) for a whole lease: it may have run out and been taken meanwhile. */
	| 'unconfirmed';

/** what `onLeaseLost` is told. */
export interface LeaseLostEvent {
	/** the lock's name. */
	name: string;
	/** how the loss was found. */
	reason: LeaseLostReason;
	/** how long the holder had been running when the loss was found, in milliseconds. */
	heldMs: number;
}
