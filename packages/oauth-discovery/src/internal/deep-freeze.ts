/** every object frozen with all it holds: a cache hit is not walked again. */
const frozen = new WeakSet<object>();

const freeze = (value: unknown, seen: Set<object>): void => {
	if (typeof value !== 'object' || value === null || frozen.has(value) || seen.has(value)) return;
	// a cycle (never in JSON, but a cache may hand back anything) ends here
	seen.add(value);
	Object.freeze(value);
	for (const child of Object.values(value)) freeze(child, seen);
	// only once all of it is frozen: a throw half way (a typed array) must not mark it done
	frozen.add(value);
};

/**
 * freezes `value` and every object and array it holds, and returns it. made for metadata
 * documents (plain JSON), which every caller of a discovery shares: one caller's write must not
 * change what the next one reads (or what the cache holds).
 */
export const deepFreeze = <T>(value: T): T => {
	freeze(value, new Set());
	return value;
};
