import { nodeBuiltin } from './node-builtin.ts';

/** what Node's fetch allows a caller's signal: as many requests in flight as an app sends. */
const MANY = 1500;

/**
 * lifts Node's listener warning on a caller's signal that still has the default limit, as Node's
 * fetch does: one signal (an app's shutdown signal) shared by eleven requests in flight holds
 * eleven `abort` listeners, each removed when its request ends, and is no leak. a limit the
 * caller set is left as it is.
 */
export const allowManyAbortListeners = (signal: AbortSignal): void => {
	const events = nodeBuiltin('node:events');
	try {
		if (events.getMaxListeners(signal) === events.defaultMaxListeners) events.setMaxListeners(MANY, signal);
	} catch {
		// a signal-like of another kind (a polyfill): Node has no limit of its own to lift there
	}
};
