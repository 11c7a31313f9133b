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
		this.#running.add(running);
		const settled = () => {
			this.#running.delete(running);
		};
		running.then(settled, settled);
		return running;
	}

	/** refuses new work from now on, and resolves once the work under way has settled. */
	close(): Promise<void> {
		this.#closing ??= this.#drain();
		return this.#closing;
	}

	async #drain(): Promise<void> {
		// nothing is added once closing: the work under way now is all there is to wait for
		await Promise.allSettled([...this.#running]);
	}
}
