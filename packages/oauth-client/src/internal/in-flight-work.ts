import { ClientClosedError, type ClosedClientOperation } from '../errors.ts';

/**
 * the client's work under way that writes to the stores or spends a token, and the refusal of
 * new work once the client is closing. a shutdown that closed the stores while a refresh was in
 * flight lost its tokens (the old refresh token spent at the server, the new ones never stored):
 * the user was signed out by a deploy. `close()` waits for that work instead.
 */
export class InFlightWork {
	readonly #running = new Set<Promise<unknown>>();
	#closing: Promise<void> | undefined;

	/**
	 * runs `work`, counted until it settles; refused with `ClientClosedError` (before anything is
	 * done) once `close()` was called.
	 */
	run<T>(operation: ClosedClientOperation, work: () => Promise<T>): Promise<T> {
		if (this.#closing !== undefined) return Promise.reject(new ClientClosedError(operation));
		let running: Promise<T>;
		try {
			running = work();
		} catch (err) {
			return Promise.reject(err);
		}
		this.#count(running);
		return running;
	}

	/**
	 * counts `promise`, work that counted work left running after it settled (a state put back in
	 * the background); never refused, since the work that started it was not.
	 */
	track(promise: Promise<unknown>): void {
		this.#count(promise);
	}

	#count(promise: Promise<unknown>): void {
		this.#running.add(promise);
		const settled = () => {
			this.#running.delete(promise);
		};
		promise.then(settled, settled);
	}

	/** refuses new work from now on, and resolves once the work under way has settled. */
	close(): Promise<void> {
		this.#closing ??= this.#drain();
		return this.#closing;
	}

	async #drain(): Promise<void> {
		// until none is left: work under way may leave more behind it (see `track`)
		while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
	}
}
