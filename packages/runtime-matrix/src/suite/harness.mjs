// a test harness small enough to run unchanged in Node, Bun, Deno and workerd (no node: imports,
// no globals beyond the language and WebCrypto): tests are named async functions, run one after
// another, each with a time limit, and reported as plain data.

/** how long one test may take before it counts as failed, in milliseconds. */
const TEST_TIMEOUT_MS = 60_000;

/** a list of tests; `run()` runs them in order and returns one result per test. */
export const createSuite = () => {
	const tests = [];
	return {
		/** adds a test. `fn` gets nothing and fails by throwing. */
		test(name, fn) {
			tests.push({ name, fn });
		},
		/** runs every test, or those whose name includes `filter`. */
		async run(filter) {
			const results = [];
			for (const { name, fn } of tests) {
				if (filter && !name.includes(filter)) continue;
				const started = Date.now();
				let timer;
				try {
					await Promise.race([
						fn(),
						new Promise((_, reject) => {
							timer = setTimeout(
								() => reject(new Error(`timed out after ${TEST_TIMEOUT_MS} ms`)),
								TEST_TIMEOUT_MS,
							);
						}),
					]);
					results.push({ name, ok: true, ms: Date.now() - started });
				} catch (err) {
					results.push({ name, ok: false, ms: Date.now() - started, error: describeError(err) });
				} finally {
					clearTimeout(timer);
				}
			}
			return results;
		},
	};
};

/** an error as one readable string: name, message, and the causes under it. */
export const describeError = (err) => {
	const parts = [];
	let current = err;
	for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
		if (current instanceof Error) {
			parts.push(`${current.name}: ${current.message}`);
			current = current.cause;
		} else {
			parts.push(String(current));
			break;
		}
	}
	const stack =
		err instanceof Error && typeof err.stack === 'string' ? err.stack.split('\n').slice(1, 4).join('\n') : '';
	return `${parts.join(' <- caused by ')}${stack ? `\n${stack}` : ''}`;
};

/** fails unless `actual` and `expected` are the same (Object.is) or deep-equal as JSON. */
export const equal = (actual, expected, what) => {
	if (Object.is(actual, expected)) return;
	if (
		typeof actual === 'object' &&
		typeof expected === 'object' &&
		JSON.stringify(actual) === JSON.stringify(expected)
	) {
		return;
	}
	throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
};

/** fails unless `value` is truthy. */
export const ok = (value, what) => {
	if (!value) throw new Error(`${what}: expected a truthy value, got ${JSON.stringify(value)}`);
};

/** fails unless `promise` rejects with an error whose `name` is `name`; returns that error. */
export const rejects = async (promise, name, what) => {
	try {
		await promise;
	} catch (err) {
		if (err?.name === name) return err;
		throw new Error(`${what}: expected a ${name}, got ${describeError(err)}`);
	}
	throw new Error(`${what}: expected a ${name}, but it resolved`);
};
