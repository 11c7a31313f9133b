import type { Store } from '../store.ts';

/** a plain Map behind the `Store` interface, with an optional `take`; counts calls. */
export class MapStore<V> implements Store<string, V> {
	readonly map: Map<string, V> = new Map();
	readonly calls: string[] = [];
	take?: (key: string) => V | undefined;

	constructor(options: { atomicTake?: boolean } = {}) {
		if (options.atomicTake !== false) {
			this.take = (key) => {
				this.calls.push(`take ${key}`);
				const value = this.map.get(key);
				this.map.delete(key);
				return value;
			};
		}
	}

	async get(key: string): Promise<V | undefined> {
		this.calls.push(`get ${key}`);
		// a copy through JSON, as a real store hands out: no object is shared with the caller
		const value = this.map.get(key);
		return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as V);
	}

	async set(key: string, value: V): Promise<void> {
		this.calls.push(`set ${key}`);
		this.map.set(key, JSON.parse(JSON.stringify(value)) as V);
	}

	async delete(key: string): Promise<void> {
		this.calls.push(`delete ${key}`);
		this.map.delete(key);
	}

	async clear(): Promise<void> {
		this.map.clear();
	}
}
