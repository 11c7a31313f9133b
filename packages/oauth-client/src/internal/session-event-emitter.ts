import type { OAuthSessionEvent, SessionEventListener } from '../session-events.ts';

/**
 * the session event listeners. `emit` returns at once: each listener runs in its own microtask,
 * after the caller's store write and outside any lock, and is never awaited; what it throws (or
 * its promise rejects with) is dropped, so a listener can neither break nor delay a sign-in or a
 * refresh.
 */
export class SessionEventEmitter {
	readonly #listeners = new Set<SessionEventListener>();

	add(listener: SessionEventListener): void {
		if (typeof listener !== 'function') {
			throw new TypeError('listener must be a function');
		}
		this.#listeners.add(listener);
	}

	remove(listener: SessionEventListener): void {
		this.#listeners.delete(listener);
	}

	/** whether anyone listens: lets callers skip building an event. */
	get active(): boolean {
		return this.#listeners.size > 0;
	}

	emit(event: OAuthSessionEvent | (() => Promise<OAuthSessionEvent>)): void {
		if (this.#listeners.size === 0) return;
		// a snapshot: a listener added meanwhile does not get this event
		const listeners = [...this.#listeners];
		queueMicrotask(() => {
			const ready = typeof event === 'function' ? event() : Promise.resolve(event);
			ready.then(
				(value) => {
					for (const listener of listeners) {
						queueMicrotask(() => {
							// one removed meanwhile (by an earlier listener of this event) is not called,
							// unless it was added back
							if (!this.#listeners.has(listener)) return;
							try {
								// its own copy: a listener that changes the event (drops its session before logging
								// it, say) changes nothing for the listeners after it
								const result = listener({ ...value });
								// an async listener's rejection must not become an unhandled rejection
								if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
									Promise.resolve(result).catch(() => {});
								}
							} catch {
								// a listener's failure is its own: the flow it reports on has already succeeded
							}
						});
					}
				},
				() => {},
			);
		});
	}
}
