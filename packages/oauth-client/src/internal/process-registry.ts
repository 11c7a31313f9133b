/**
 * a registry of this process, keyed by objects, shared by every copy of this package loaded in it.
 * npm and pnpm often install two copies (the facade's own dependency beside the version the app or
 * an adapter's peer resolved): a module-level `WeakMap` would be one per copy, and two clients on
 * one store, one from each copy, would not see each other. this one is kept on `globalThis` under
 * `Symbol.for(key)`, where each copy finds the first one's. `key` names what the registry holds:
 * a change to the values' shape takes a new key, so that copies of different releases never read
 * each other's values wrongly (they then keep apart, as before). where the global cannot take it
 * (frozen, or the key taken by something else), the registry is this copy's own.
 */
export const processRegistry = <K extends object, V>(key: string): WeakMap<K, V> => {
	const symbol = Symbol.for(key);
	const existing = (globalThis as Record<symbol, unknown>)[symbol];
	if (existing instanceof WeakMap) return existing as WeakMap<K, V>;
	const registry = new WeakMap<K, V>();
	if (existing !== undefined) return registry;
	try {
		// not enumerable, not writable: nothing lists it, nothing replaces it under the copies using it
		Object.defineProperty(globalThis, symbol, { value: registry, enumerable: false, writable: false });
	} catch {
		// a frozen global (a hardened runtime): this copy's own, as before
	}
	return registry;
};
