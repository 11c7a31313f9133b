import { resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';

import type { SqliteDatabase } from '../sqlite-database.ts';
import { nodeRequire } from './node-require.ts';

/** milliseconds between two background WAL checkpoints of a file, by default. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 100;

/**
 * SQLite's own automatic checkpoint threshold, in WAL pages (its compile-time default): what a
 * connection goes back to when the background worker fails.
 */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

/**
 * passes a tick may run when writers added frames while one ran (an idle WAL takes two: the
 * second, which copies nothing and syncs nothing, confirms the first missed no commit).
 */
const PASSES_PER_TICK = 4;

/**
 * how long `close()` waits, at most, for the worker to close its connection first, in
 * milliseconds: the worker finishes the pass it is in (a few milliseconds). closing last, the
 * caller's connection then checkpoints and removes the WAL as SQLite always does, so the files are
 * settled when `close()` returns. past it, the connection closes anyway.
 */
const STOP_WAIT_MS = 5_000;

/** the worker's state, in a shared Int32Array: starting, open, closed (or never opened). */
const STARTING = 0;
const OPEN = 1;
const CLOSED = 2;

/**
 * the worker, plain JavaScript evaluated in its own thread (no file to locate from `src/` or `dist/`):
 * it opens the file with the same better-sqlite3 and, every `interval` ms, runs a PASSIVE
 * checkpoint, which copies committed WAL frames into the database file without waiting for or
 * blocking any reader or writer. a pass that may have left frames behind (a writer committed
 * meanwhile) runs again, until one finds nothing new to copy, so that the WAL is fully copied
 * now and then and the next write can restart it from the beginning. any error ends the worker;
 * the main thread then checkpoints itself (see `fail`).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { driver, path, busyTimeout, interval, passes, state } = workerData;
const closed = () => {
	Atomics.store(state, 0, ${CLOSED});
	Atomics.notify(state, 0);
};
// the store closed before this thread started: open nothing
if (Atomics.compareExchange(state, 0, ${STARTING}, ${OPEN}) === ${STARTING}) {
	let database;
	let timer;
	const stop = () => {
		clearInterval(timer);
		parentPort.close();
		try {
			database?.close();
		} finally {
			closed();
		}
	};
	try {
		const Database = require(driver);
		// the file the store opened, never a new one: a file deleted meanwhile fails the worker,
		// and its connection goes back to checkpointing on its own thread
		database = new Database(path, { fileMustExist: true });
		database.exec('PRAGMA busy_timeout = ' + busyTimeout);
		database.exec('PRAGMA synchronous = NORMAL');
		const checkpoint = database.prepare('PRAGMA wal_checkpoint(PASSIVE)');
		timer = setInterval(() => {
			try {
				// "log" is the WAL's length when a pass began: one that copied all of it may have met
				// commits meanwhile, and the WAL starts over only once those are copied too. so a pass
				// ends the tick only when it found the WAL copied and no longer than the pass before
				for (let pass = 0, before = -1; pass < passes; pass++) {
					const { busy, log, checkpointed } = checkpoint.get();
					if (busy !== 0 || (log <= checkpointed && log === before)) break;
					before = log;
				}
			} catch (err) {
				stop();
				throw err;
			}
		}, interval);
		parentPort.on('message', (message) => message === 'stop' && stop());
	} catch (err) {
		stop();
		throw err;
	}
}
`;

/** the connections of one file whose checkpoints one worker runs. */
interface Checkpointer {
	worker: Worker;
	state: Int32Array;
	connections: Set<SqliteDatabase>;
	stopping: boolean;
}

const running = new Map<string, Checkpointer>();

/** the options of `checkpointInBackground`. */
export interface BackgroundCheckpointOptions {
	/** the file, as the connection opened it. */
	path: string;
	/** the better-sqlite3 module the connection came from, resolved to a file. */
	driver: string;
	/** milliseconds between checkpoints. */
	interval: number;
	/** the connection's busy timeout, in milliseconds. */
	busyTimeout: number;
}

/**
 * node:worker_threads, loaded when the first worker starts rather than at import: a runtime
 * without it (Cloudflare Workers before nodejs_compat gained it) can then still import the package.
 * @throws {Error} when the runtime has no worker threads (the caller checkpoints inline then)
 */
const workerThreads = (): typeof import('node:worker_threads') =>
	(globalThis.process?.getBuiltinModule?.('node:worker_threads') as
		| typeof import('node:worker_threads')
		| undefined) ?? (nodeRequire('node:worker_threads') as typeof import('node:worker_threads'));

/** lets SQLite checkpoint on the connection's own thread again, as it does by default. */
const checkpointInline = (database: SqliteDatabase): void => {
	try {
		database.exec(`PRAGMA wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
	} catch {
		// closed meanwhile: nothing left to checkpoint through it
	}
};

/**
 * moves the WAL checkpoints of a connection `path` opened with better-sqlite3 to a worker thread:
 * one worker per file and interval in this thread (a worker thread of the app that opens the
 * file starts its own: modules are per thread), with its own connection. SQLite would
 * otherwise run a checkpoint inside whichever commit takes the WAL past 1,000 pages, copying
 * them all on the caller's thread (tens of milliseconds on a large file). the connection stops
 * checkpointing by itself (`wal_autocheckpoint = 0`). the worker is unref'd (it never keeps the
 * process alive); if it fails or dies, every connection it served goes back to SQLite's own
 * checkpoints, and nothing is lost meanwhile: committed writes are in the WAL, which only grows.
 * returns the release to call before closing the connection; the last release stops the worker.
 */
export const checkpointInBackground = (
	database: SqliteDatabase,
	options: BackgroundCheckpointOptions,
): (() => void) => {
	const key = `${resolve(options.path)}\0${options.interval}`;
	let checkpointer = running.get(key);
	if (checkpointer === undefined) {
		const state = new Int32Array(new SharedArrayBuffer(4));
		const { Worker } = workerThreads();
		const worker = new Worker(WORKER_SOURCE, {
			eval: true,
			workerData: {
				driver: options.driver,
				// absolute: the process may change its working directory before the worker opens it
				path: resolve(options.path),
				busyTimeout: options.busyTimeout,
				interval: options.interval,
				passes: PASSES_PER_TICK,
				state,
			},
		});
		// housekeeping must not keep the process alive
		worker.unref();
		const started: Checkpointer = { worker, state, connections: new Set(), stopping: false };
		const fail = (): void => {
			if (started.stopping) return;
			started.stopping = true;
			if (running.get(key) === started) running.delete(key);
			// the worker is gone (an error, or killed): checkpoint on the callers' threads again
			for (const connection of started.connections) checkpointInline(connection);
			started.connections.clear();
		};
		// an error thrown in the worker (the file became unreadable, say) ends it; not logged
		worker.on('error', fail);
		worker.on('exit', fail);
		running.set(key, started);
		checkpointer = started;
	}
	const served = checkpointer;
	database.exec('PRAGMA wal_autocheckpoint = 0');
	served.connections.add(database);
	return () => {
		if (!served.connections.delete(database) || served.connections.size > 0) return;
		served.stopping = true;
		if (running.get(key) === served) running.delete(key);
		// not started yet: it will open nothing
		if (Atomics.compareExchange(served.state, 0, STARTING, CLOSED) === STARTING) return;
		// the worker closes its connection first, so that the caller's is the file's last and
		// settles the WAL as SQLite does on close (and the files are at rest once close() returns)
		served.worker.postMessage('stop');
		Atomics.wait(served.state, 0, OPEN, STOP_WAIT_MS);
	};
};

/** the worker checkpointing `path` at `interval`, if one runs (for tests). */
export const checkpointWorker = (path: string, interval: number): Worker | undefined =>
	running.get(`${resolve(path)}\0${interval}`)?.worker;
