import { nodeBuiltin } from './node-builtin.ts';

/**
 * where this thread notes that it has warned: one warning per thread, however many clients it
 * makes. on `globalThis` (one per thread), not in a module-level variable: a dev server's hot
 * reload or a test runner's module reset evaluates this module again, and each instance warned.
 */
const WARNED = Symbol.for('@atcute/oauth-node-client/default-lock-warned');

const warnedAlready = (): boolean => (globalThis as Record<symbol, unknown>)[WARNED] === true;

const noteWarned = (): void => {
	try {
		// not enumerable: nothing lists it
		Object.defineProperty(globalThis, WARNED, { value: true, enumerable: false, configurable: true });
	} catch {
		// a frozen global (a hardened runtime): each module instance warns once, as before
	}
};

/** whether this module instance has warned: where the global cannot take the note. */
let warned = false;

/** how far the default lock reaches, in words for the warning. */
interface Scope {
	where: string;
	unit: string;
	siblings: string;
}

/**
 * where the default lock reaches no further than this JavaScript thread although the app may
 * run beside copies of itself: a worker thread (each has its own globals and modules, so its own
 * default lock) or a `cluster` worker (a process of its own). `undefined` on the main thread of a
 * process that is no cluster worker, or on a runtime without these modules.
 */
const narrowerScope = (): Scope | undefined => {
	try {
		if (!nodeBuiltin('node:worker_threads').isMainThread) {
			return { where: 'a worker thread', unit: 'thread', siblings: 'threads' };
		}
		if (nodeBuiltin('node:cluster').isWorker) {
			return { where: 'a cluster worker', unit: 'process', siblings: 'workers' };
		}
	} catch {
		// no process.getBuiltinModule (older workerd): nothing to tell threads apart by
	}
	return undefined;
};

/**
 * warns, once per thread, that a client made with no `requestLock` in a worker thread or a
 * `cluster` worker (on a session store that is not a `MemoryStore`, which is the thread's own) is
 * kept apart only from the clients of that thread (or process). why: the
 * sibling threads or workers of an app usually share its session store (a SQLite file, Redis,
 * PostgreSQL), and with a lock each, two of them refresh one session at once: the refresh token
 * is spent twice, the server's replay detection ends the session, and the user is signed out,
 * with nothing that says why (4 threads × 25 calls on a stale session: 4 refreshes, every call
 * failed). an app whose sessions are this thread's alone says so with `createMemoryLock()`.
 */
export const warnDefaultLockScope = (): void => {
	if (warned || warnedAlready()) return;
	const scope = narrowerScope();
	if (scope === undefined) return;
	warned = true;
	noteWarned();
	const { where, unit, siblings } = scope;
	globalThis.process?.emitWarning?.(
		`an OAuthClient with no requestLock was made in ${where}: its default lock keeps out only the clients of this ${unit}, so ${siblings} sharing the session store can spend one refresh token twice and end the session. pass a lock they share (createSqliteLock, a Redis or PostgreSQL lock), or createMemoryLock() if this ${unit} keeps its sessions to itself`,
		{ type: 'DefaultLockWarning', code: 'ATCUTE_OAUTH_DEFAULT_LOCK' },
	);
};
