interface Flight {
	readonly promise: Promise<unknown>;
	readonly controller: AbortController;
	/** callers still waiting; the load is aborted when the last one gives up. */
	waiters: number;
}

/**
 * shares one pending load per key between concurrent callers. each caller may bring its own
 * signal: giving up only stops that caller waiting (rejected with its signal's reason), and the load itself is aborted once nobody
 * waits for it any more.
 */
export class SingleFlight {
	readonly #flights = new Map<string, Flight>();

	run<T>(
		key: string,
		load: (signal: AbortSignal) => Promise<T>,
		signal: AbortSignal | undefined,
	): Promise<T> {
		if (signal?.aborted) return Promise.reject(signal.reason);

		let flight = this.#flights.get(key);
		if (flight === undefined) {
			const controller = new AbortController();
			const promise: Promise<unknown> = Promise.resolve()
				.then(() => load(controller.signal))
				.finally(() => {
					if (this.#flights.get(key)?.promise === promise) this.#flights.delete(key);
				});
			flight = { promise, controller, waiters: 0 };
			this.#flights.set(key, flight);
		}

		// a caller without a signal waits to the end, so the load is never aborted under it
		flight.waiters++;
		if (signal === undefined) return flight.promise as Promise<T>;

		const current = flight;
		return new Promise<T>((resolve, reject) => {
			const onAbort = () => {
				current.waiters--;
				if (current.waiters === 0) {
					// nobody is left: stop the request now rather than at its timeout, and let the
					// next caller start a fresh one
					if (this.#flights.get(key) === current) this.#flights.delete(key);
					current.controller.abort();
				}
				reject(signal.reason);
			};
			signal.addEventListener('abort', onAbort, { once: true });
			current.promise
				.then(resolve as (value: unknown) => void, reject)
				.finally(() => signal.removeEventListener('abort', onAbort));
		});
	}
}
