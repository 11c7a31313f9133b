/** a promise and the function that resolves it (Node 20 has no `Promise.withResolvers`). */
export const deferred = <T = void>(): { promise: Promise<T>; resolve: (value: T) => void } => {
	let resolve!: (value: T) => void;
	const promise = new Promise<T>((done) => {
		resolve = done;
	});
	return { promise, resolve };
};

/** resolves after `turns` turns of the event loop (no timer: nothing waits on the clock). */
export const afterTurns = async (turns: number): Promise<void> => {
	for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve));
};

/** what a promise settled with: its value, or what it threw. */
export const settled = (promise: Promise<unknown>): Promise<unknown> =>
	promise.then(
		(value) => value,
		(err: unknown) => err,
	);

/** the path of a fetch's URL, whatever form the fetch was given. */
export const pathOf = (input: string | URL | Request): string =>
	new URL(input instanceof Request ? input.url : input).pathname;
