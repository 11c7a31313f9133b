/**
 * a copy of a request's headers as a plain record, names in lower case and repeated names joined
 * with ", " (as `Headers` holds them). cheaper than a `Headers` on a path taken once per request,
 * and `fetch` takes it as it is; it validates names and values when it sends them. the copy is
 * ours to change: the caller's headers are never touched.
 */
export const toHeaderRecord = (init: HeadersInit | null | undefined): Record<string, string> => {
	// no prototype: a header named like an Object property ("__proto__", "constructor") is a header
	const out: Record<string, string> = Object.create(null);
	if (init === undefined || init === null) return out;
	const add = (name: string, value: string) => {
		const key = name.toLowerCase();
		const previous = out[key];
		out[key] = previous === undefined ? String(value) : `${previous}, ${value}`;
	};
	if (init instanceof Headers || (!Array.isArray(init) && Symbol.iterator in init)) {
		// a Headers, or another iterable of pairs (a Map, a generator): as fetch would read it
		const headers = init instanceof Headers ? init : new Headers(init);
		headers.forEach((value, name) => {
			out[name] = value;
		});
	} else if (Array.isArray(init)) {
		for (const pair of init) {
			if (pair.length !== 2) throw new TypeError('a header must be a [name, value] pair');
			add(pair[0]!, pair[1]!);
		}
	} else {
		for (const name of Object.keys(init)) add(name, (init as Record<string, string>)[name]!);
	}
	return out;
};
