/**
 * the request option that carries a request's connection signal to its agent's
 * `createConnection` (node:http hands that function the request's options, all but `signal`). the
 * transport aborts it when it lets go of a request that has no socket yet (an abort, a throw while
 * it was set up): a proxy's tunnel still opening is given up, a socket just made is closed.
 */
export const CONNECT_SIGNAL = 'atcuteConnectSignal';

/** what a connection reads of its signal: an `AbortSignal` has it, as has `ConnectionSignal`. */
export interface ConnectSignal {
	readonly aborted: boolean;
	readonly reason: unknown;
	addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
	removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * a request's connection signal: the part of an `AbortSignal` a connection reads, made for every
 * request on the hot path, where Node's `AbortController` (an EventTarget) costs some 4 µs to
 * make and this nothing measurable. every listener runs once, at the one abort.
 */
export class ConnectionSignal implements ConnectSignal {
	aborted = false;
	reason: unknown = undefined;
	#listeners: (() => void)[] | undefined;

	addEventListener(_type: 'abort', listener: () => void): void {
		this.#listeners ??= [];
		this.#listeners.push(listener);
	}

	removeEventListener(_type: 'abort', listener: () => void): void {
		const index = this.#listeners?.indexOf(listener) ?? -1;
		if (index !== -1) this.#listeners!.splice(index, 1);
	}

	/** aborts once, with `reason`, running each listener once. */
	abort(reason?: unknown): void {
		if (this.aborted) return;
		this.aborted = true;
		this.reason = reason;
		const listeners = this.#listeners;
		this.#listeners = undefined;
		for (const listener of listeners ?? []) listener();
	}
}
