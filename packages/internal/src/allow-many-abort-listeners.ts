/** what Node's fetch allows a caller's signal: as many requests in flight as an app sends. */
const MANY = 1500;

/** node:events' two functions this needs, where the runtime has them. */
interface ListenerLimits {
	defaultMaxListeners: number;
	getMaxListeners(target: EventTarget): number;
	setMaxListeners(n: number, target: EventTarget): void;
}

let limits: ListenerLimits | null | undefined;

/**
 * lifts Node's listener warning on a caller's signal that still has the default limit, as Node's
 * fetch does with the signal it is given: one signal (an app's shutdown signal) shared by eleven
 * calls in flight holds eleven `abort` listeners, each removed when its call ends, and is no leak.
 * a limit the caller set is left as it is. where there is no node:events (a runtime without
 * `process.getBuiltinModule`), there is no such warning either, and nothing is done.
 */
export const allowManyAbortListeners = (signal: AbortSignal): void => {
	if (limits === undefined) {
		const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
		limits = (runtime?.getBuiltinModule?.('node:events') as ListenerLimits | undefined) ?? null;
	}
	if (limits === null) return;
	try {
		if (limits.getMaxListeners(signal) === limits.defaultMaxListeners) limits.setMaxListeners(MANY, signal);
	} catch {
		// a signal-like of another kind (a polyfill): Node has no limit of its own to lift there
	}
};
