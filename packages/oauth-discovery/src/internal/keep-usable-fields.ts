/**
 * how many fields beyond the declared ones a validated document keeps. the reference authorization
 * server sends 13, and the registries of RFC 8414 and OpenID discovery name about 60 in all. a
 * cap, because the byte caps alone do not bound the heap: thousands of tiny fields (`"a":1,` is 6
 * bytes of JSON) take several times their size once parsed, and a cached document stays for as
 * long as the cache keeps it.
 */
export const MAX_EXTENSION_FIELDS = 64;

/** a JSON scalar, or an array of strings: what extension metadata fields hold, and no deeper. */
const isFlat = (value: unknown): boolean => {
	if (value === null) return true;
	const type = typeof value;
	if (type === 'string' || type === 'number' || type === 'boolean') return true;
	return Array.isArray(value) && value.every((item) => typeof item === 'string');
};

/**
 * a new object with what a caller can use of a validated document: every `declared` field (already
 * checked), then up to `MAX_EXTENSION_FIELDS` others, in document order, whose values are JSON
 * scalars or arrays of strings. anything else (nested objects, arrays of arrays, the fields past
 * the cap) is dropped, so what is cached and shared is bounded by the document's byte cap, not by
 * how many JSON values a hostile server packed into it.
 */
export const keepUsableFields = (
	document: Record<string, unknown>,
	declared: ReadonlySet<string>,
): Record<string, unknown> => {
	const kept: Array<[string, unknown]> = [];
	let extensions = 0;
	for (const name of Object.keys(document)) {
		const value = document[name];
		if (declared.has(name)) {
			kept.push([name, value]);
		} else if (extensions < MAX_EXTENSION_FIELDS && isFlat(value)) {
			kept.push([name, value]);
			extensions++;
		}
	}
	// defines own properties: a "__proto__" field from JSON stays a field, never the prototype
	return Object.fromEntries(kept);
};
