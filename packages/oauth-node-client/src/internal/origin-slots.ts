import { abortReasonOf } from './abort-reason.ts';

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
}

/**
 * how many requests may run at once at each origin, every later one waiting its turn (first come,
 * first served): a burst of thousands of calls over TLS would otherwise open thousands of
 * connections together, and their handshakes stall the event loop for seconds. node:http's own
 * limit (an agent's `maxSockets`) is not used: its queue runs no time-out, and it opens a waiting
 * request's connection with the options of the request whose socket closed, the connection signal
 * of an aborted one among them.
 */
export class OriginSlots {
	readonly #limit: number;
	readonly #origins = new Map<string, Origin>();

	constructor(limit: number) {
		this.#limit = limit;
	}

	/**
	 * takes a slot at `origin` if one is free (true: the caller holds it and must `release` it once);
	 * false when the caller must `wait`. no promise on this path, which every call takes while the
	 * origin is under its limit.
	 */
	tryTake(origin: string): boolean {
		let entry = this.#origins.get(origin);
		if (entry === undefined) {
			entry = { active: 0, waiting: new Set() };
			this.#origins.set(origin, entry);
		}
		// none free while anyone waits: `release` hands a freed slot straight to the first waiter
		if (entry.active >= this.#limit) return false;
		entry.active++;
		return true;
	}

	/**
	 * waits for a slot at `origin` (after `tryTake` found none), resolving once the caller holds it
	 * (and must `release` it). it rejects, holding none, with the signal's reason when `signal`
	 * aborts, or with `timeoutError()` after `timeoutMs`.
	 */
	wait(
		origin: string,
		signal: AbortSignal | null | undefined,
		timeoutMs: number,
		timeoutError: () => Error,
	): Promise<void> {
		if (signal?.aborted) return Promise.reject(abortReasonOf(signal));
		const entry = this.#origins.get(origin)!;
		return new Promise((resolve, reject) => {
			const leave = () => {
				clearTimeout(timer);
				signal?.removeEventListener('abort', onAbort);
				entry.waiting.delete(waiter);
			};
			const onAbort = () => waiter.fail(abortReasonOf(signal!));
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
			entry.waiting.add(waiter);
		});
	}

	/** gives back a slot taken at `origin`, handing it to the first waiter, if any. */
	release(origin: string): void {
		const entry = this.#origins.get(origin);
		if (entry === undefined) return;
		entry.active--;
		const next = entry.waiting.values().next();
		if (next.done) {
			// an app that calls thousands of PDSes keeps no entry for an origin it is not calling
			if (entry.active === 0) this.#origins.delete(origin);
			return;
		}
		// taken here, before the waiter's own code runs a microtask later, so no new caller takes it
		entry.active++;
		next.value.grant();
	}

	/** how many origins have a request running or waiting (the others are forgotten). */
	get size(): number {
		return this.#origins.size;
	}
}
