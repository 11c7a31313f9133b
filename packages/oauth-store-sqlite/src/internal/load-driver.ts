import type { SqliteDatabase } from '../sqlite-database.ts';
import { nodeRequire, nodeResolve } from './node-require.ts';

/** which driver opened a file. */
export type SqliteDriverName = 'better-sqlite3' | 'node:sqlite';

/** how the drivers are loaded; replaced by fakes in tests. */
export interface DriverLoaders {
	/** better-sqlite3's export (its `Database` class); throws when it is not installed. */
	betterSqlite3: () => unknown;
	/** the `node:sqlite` module, or `undefined` when the runtime has none. */
	nodeSqlite: () => unknown;
	/** the file better-sqlite3 loads from, for a worker thread to load the same one; optional. */
	betterSqlite3Path?: (() => string) | undefined;
	/**
	 * whether trying a native addon cannot stop the process at a permission prompt; optional
	 * (default: it can always be tried).
	 */
	addonsAllowed?: (() => boolean) | undefined;
	/**
	 * whether this is Cloudflare Workers, where no driver can ever load (no native addons, and a
	 * `node:sqlite` only from 2025); optional (default: not).
	 */
	onWorkers?: (() => boolean) | undefined;
}

/** what the running Deno grants, when it is Deno: its `permissions.querySync`, which never prompts. */
interface DenoPermissions {
	permissions?: { querySync?: (descriptor: { name: string; kind?: string }) => { state: string } };
}

/**
 * Deno asks in a terminal before a Node-API addon loads (`ffi`, and `sys` for the uid the addon
 * loader reads): trying better-sqlite3 there without both granted would stop the process at a
 * prompt, only to fall back to node:sqlite once answered. elsewhere, true.
 */
const denoGrantsAddons = (): boolean => {
	const deno = (globalThis as { Deno?: DenoPermissions }).Deno;
	if (deno === undefined) return true;
	const granted = (descriptor: { name: string; kind?: string }): boolean => {
		try {
			return deno.permissions?.querySync?.(descriptor).state === 'granted';
		} catch {
			return false;
		}
	};
	return granted({ name: 'ffi' }) && granted({ name: 'sys', kind: 'uid' });
};

/** a driver, ready to open files. */
export interface SqliteDriver {
	name: SqliteDriverName;
	open: (path: string) => SqliteDatabase;
	/** better-sqlite3's resolved module file, when known: a worker thread loads it to open the file too. */
	module?: string | undefined;
}

/** the real loaders: the peer dependency, then the runtime's built-in module. */
export const defaultLoaders: DriverLoaders = {
	betterSqlite3: () => nodeRequire('better-sqlite3'),
	// Node 22.13+ (and 22.5+ with --experimental-sqlite); undefined elsewhere
	// `process` may be missing (Cloudflare Workers before 2024-09-23)
	nodeSqlite: () => globalThis.process?.getBuiltinModule?.('node:sqlite'),
	betterSqlite3Path: () => nodeResolve('better-sqlite3'),
	addonsAllowed: denoGrantsAddons,
	// the user agent Workers give every worker (workerd's navigator.userAgent)
	onWorkers: () =>
		(globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent === 'Cloudflare-Workers',
};

type DatabaseClass = new (path: string) => SqliteDatabase;

const isClass = (value: unknown): value is DatabaseClass => typeof value === 'function';

const moduleOf = (loaders: DriverLoaders): string | undefined => {
	try {
		return loaders.betterSqlite3Path?.();
	} catch {
		// loaded, yet not resolvable as a file (a bundler inlined it): no worker thread then
		return undefined;
	}
};

/**
 * picks the driver for a file path: better-sqlite3 when it is installed and its native addon
 * loads here (the declared peer, and the one an app that installed it expects), else node:sqlite
 * when the runtime has it (Node 22.13+, Deno 2.2+, Bun 1.2+). under Deno better-sqlite3 is tried only
 * when `--allow-ffi` and `--allow-sys` grant it, so that no permission prompt stops the process.
 * @throws {Error} when neither loads; `cause` is better-sqlite3's load error, or node:sqlite's
 *   when the runtime has the module but cannot open a database with it (Cloudflare Workers)
 */
export const selectDriver = (loaders: DriverLoaders = defaultLoaders): SqliteDriver => {
	let loadError: unknown;
	// better-sqlite3 is there but cannot run here: its addon was built for another Node (or not at all)
	let broken = false;
	try {
		if (loaders.addonsAllowed?.() === false) {
			throw new Error(
				'better-sqlite3 was not tried: loading a native addon here needs a permission not granted',
			);
		}
		let loaded: { default?: unknown } | undefined;
		try {
			loaded = loaders.betterSqlite3() as { default?: unknown } | undefined;
		} catch (err) {
			broken = isAddonFailure(err);
			throw err;
		}
		// CommonJS export, or an ES module namespace around it
		const Database = isClass(loaded) ? loaded : loaded?.default;
		if (isClass(Database)) {
			// better-sqlite3 loads its native addon on the first open, not on require: open one
			// in-memory database so that an addon built for another Node (or a runtime that cannot
			// load it, such as Bun or Deno) falls back to node:sqlite here instead of failing later
			broken = true;
			new Database(':memory:').close();
			return { name: 'better-sqlite3', open: (path) => new Database(path), module: moduleOf(loaders) };
		}
		loadError = new TypeError('better-sqlite3 did not export a Database class');
	} catch (err) {
		// not installed, or built for another Node ABI: node:sqlite may still do
		loadError = err;
	}

	const nodeSqlite = loaders.nodeSqlite() as { DatabaseSync?: unknown } | undefined;
	const DatabaseSync = nodeSqlite?.DatabaseSync;
	if (isClass(DatabaseSync)) {
		try {
			// Cloudflare Workers expose a node:sqlite whose DatabaseSync cannot be constructed
			// ("Illegal constructor"): find that out here, once, and say what to do instead
			(new DatabaseSync(':memory:') as { close?: () => void }).close?.();
		} catch (err) {
			throw new Error(
				'no SQLite driver: this runtime has node:sqlite but it cannot open a database ' +
					`(${err instanceof Error ? err.message : String(err)}); use another store here, ` +
					'or run on Node.js with better-sqlite3 or node:sqlite (22.13+)',
				{ cause: err },
			);
		}
		return { name: 'node:sqlite', open: (path) => new DatabaseSync(path) };
	}

	if (broken) {
		// "install better-sqlite3" would send the reader to do what is done: say what failed, and the fix
		throw new Error(
			`no SQLite driver: better-sqlite3 is installed but cannot be loaded here (${gist(loadError)}); ` +
				'run `npm rebuild better-sqlite3` with this Node.js, or run on a Node.js with node:sqlite (22.13+), ' +
				'or use another store here',
			{ cause: loadError },
		);
	}
	if (loaders.onWorkers?.() === true) {
		// "install better-sqlite3" cannot help there: a native addon never loads on Workers
		throw new Error(
			'no SQLite driver: Cloudflare Workers can load neither better-sqlite3 (a native addon) nor node:sqlite; use another store here',
			{ cause: loadError },
		);
	}
	throw new Error(
		'no SQLite driver: install better-sqlite3, or run on a Node.js with node:sqlite (22.13+), or use another store here',
		{
			cause: loadError,
		},
	);
};

/**
 * whether loading better-sqlite3 failed on its native addon: built for another Node.js, not built
 * at all, or refused by the OS. not when the package is missing, or when the runtime has no
 * `require` to load it with (a Workers-like one), where "installed but cannot be loaded" is wrong.
 */
const isAddonFailure = (err: unknown): boolean => {
	const code = (err as { code?: unknown } | null)?.code;
	const message = err instanceof Error ? err.message : '';
	return (
		code === 'ERR_DLOPEN_FAILED' || /better_sqlite3\.node|bindings file|NODE_MODULE_VERSION/.test(message)
	);
};

/** the most characters of a load error's message that a driver error quotes. */
const GIST_LENGTH = 300;

/** a load error's message on one line, cut short: Node's for a wrong addon ABI spans five. */
const gist = (err: unknown): string => {
	const message = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
	return message.length > GIST_LENGTH ? `${message.slice(0, GIST_LENGTH - 1)}…` : message;
};
