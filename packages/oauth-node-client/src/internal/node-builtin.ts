import type { Cluster } from 'node:cluster';
import type * as crypto from 'node:crypto';
import type * as dns from 'node:dns';
import type * as net from 'node:net';
import type * as workerThreads from 'node:worker_threads';

/** the node: modules loaded on first use. */
interface Builtins {
	/** the module's CommonJS exports, which getBuiltinModule returns: the cluster object itself. */
	'node:cluster': Cluster;
	'node:crypto': typeof crypto;
	'node:dns': typeof dns;
	'node:net': typeof net;
	'node:worker_threads': typeof workerThreads;
}

const loaded: Partial<Builtins> = {};

/**
 * a node: module, loaded on first use instead of at import: node:crypto, node:net (with
 * node:stream) and node:dns cost more to load than the rest of the facade, and an app would pay
 * for them at start-up even in a process that never signs or sends a request. throws a TypeError
 * on a runtime without `process.getBuiltinModule` (Node before 20.16, older workerd); callers
 * that have a fallback catch it.
 */
export const nodeBuiltin = <K extends keyof Builtins>(id: K): Builtins[K] => {
	let module = loaded[id] as Builtins[K] | undefined;
	if (module === undefined) {
		const runtime = globalThis.process;
		if (typeof runtime?.getBuiltinModule !== 'function') {
			throw new TypeError(`${id} is not available: this runtime has no process.getBuiltinModule`);
		}
		module = runtime.getBuiltinModule(id) as unknown as Builtins[K];
		loaded[id] = module;
	}
	return module;
};

/** node:net's `isIP`, with node:net loaded on the first call. */
export const isIP = (input: string): number => nodeBuiltin('node:net').isIP(input);
