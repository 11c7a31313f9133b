// shared by @atcute/oauth-client and @atcute/oauth-dpop (each build inlines it): the bounded,
// oldest-first maps they keep per account or per origin.

/**
 * sets `key` to `value` as the newest entry of `map` (a `Map` keeps insertion order), and drops
 * the oldest entry when that takes `map` past `maxSize`. the entry just set is never the one
 * dropped (for `maxSize` ≥ 1).
 */
export const setNewest = <K, V>(map: Map<K, V>, key: K, value: V, maxSize: number): void => {
	map.delete(key);
	map.set(key, value);
	if (map.size > maxSize) map.delete(map.keys().next().value!);
};
