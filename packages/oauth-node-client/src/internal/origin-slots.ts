/** one request waiting for a slot: granted in turn, or failed by its signal or its time limit. */
interface Waiter {
	grant(): void;
	fail(reason: unknown): void;
}

/** the requests at one origin: how many hold a slot, and who waits for one, in order. */
interface Origin {
	active: number;
	// a Set keeps insertion order and lets a waiter that gives up leave from anywhere in O(1)
	readonly waiting: Set<Waiter>;
	/** the urgent waiters, let in before every other. */
	readonly urgent: Set<Waiter>;
}

/**
 * how many requests may wait for their answers at once at each origin, every later one waiting its
 * turn (first come, first served): a burst of thousands of calls over TLS would otherwise open
 * thousands of connections together, and their handshakes stall the event loop for seconds.
 * urgent requests (the OAuth client's own: a refresh, a sign-out's revocation) are let in before
 * the others, and past the limit by an eighth of it, so that they are never held behind a burst,
 * nor behind the calls that wait for them; beyond that they wait too, first in line.
 * node:http's own limit (an agent's `maxSockets`) is not used: its queue runs no time-out, and it
 * opens a waiting request's connection with the options of the request whose socket closed, the
 * connection signal of an aborted one among them.
 */
export class OriginSlots {
	readonly #limit: number;
	readonly #urgentLimit: number;
	readonly #origins = new Map<string, Origin>();

	constructor(limit: number) {
		this.#limit = limit;
		this.#urgentLimit = limit + Math.ceil(limit / 8);
	}

	/**
	 * takes a slot at `origin` if one is free (true: the caller holds it and must `release` it once);
	 * false when the caller must `wait`. no promise on this path, which every call takes while the
	 * origin is under its limit.
	 */
	tryTake(origin: string, urgent: boolean): boolean {
		const entry = this.#entryOf(origin);
		// none free while anyone waits in the same line: `release` hands a freed slot straight to the
		// first waiter, so waiting requests mean the line's limit is reached
		if (entry.active >= (urgent ? this.#urgentLimit : this.#limit)) return false;
		entry.active++;
		return true;
	}

	/**
	 * waits for a slot at `origin`, resolving once the caller holds it (and must `release` it). it
	 * rejects, holding none, with the signal's reason when `signal` aborts, or with `timeoutError()`
	 * after `timeoutMs`.
	 */
	wait(
		origin: string,
		urgent: boolean,
		signal: AbortSignal | null | undefined,
		timeoutMs: number,
		timeoutError: () => Error,
	): Promise<void> {
		if (signal?.aborted) return Promise.reject(signal.reason);
		const entry = this.#entryOf(origin);
		const line = urgent ? entry.urgent : entry.waiting;
		return new Promise((resolve, reject) => {
			const leave = () => {
				clearTimeout(timer);
				signal?.removeEventListener('abort', onAbort);
				line.delete(waiter);
			};
			const onAbort = () => waiter.fail(signal!.reason);
			const waiter: Waiter = {
				grant: () => {
					leave();
					resolve();
				},
				fail: (reason) => {
					leave();
					reject(reason);
				},
			};
			// the wait is part of the request: one no slot frees for this long fails like a silent
			// connection would, rather than wait for ever behind requests that never end
			const timer = setTimeout(() => waiter.fail(timeoutError()), timeoutMs);
			signal?.addEventListener('abort', onAbort, { once: true });
			line.add(waiter);
		});
	}

	/** gives back a slot taken at `origin`, handing it to the first waiter its line lets in, if any. */
	release(origin: string): void {
		const entry = this.#origins.get(origin);
		if (entry === undefined) return;
		entry.active--;
		const next =
			entry.active < this.#urgentLimit && entry.urgent.size > 0
				? entry.urgent.values().next().value
				: entry.active < this.#limit
					? entry.waiting.values().next().value
					: undefined;
		if (next === undefined) {
			// an app that calls thousands of PDSes keeps no entry for an origin it is not calling
			if (entry.active === 0 && entry.waiting.size === 0 && entry.urgent.size === 0) {
				this.#origins.delete(origin);
			}
			return;
		}
		// taken here, before the waiter's own code runs a microtask later, so no new caller takes it
		entry.active++;
		next.grant();
	}

	/** how many origins have a request running or waiting (the others are forgotten). */
	get size(): number {
		return this.#origins.size;
	}

	#entryOf(origin: string): Origin {
		let entry = this.#origins.get(origin);
		if (entry === undefined) {
			entry = { active: 0, waiting: new Set(), urgent: new Set() };
			this.#origins.set(origin, entry);
		}
		return entry;
	}
}
