import type { OAuthTracer, TraceContexts, TraceOperation } from '../tracer.ts';

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
	typeof (value as { then?: unknown } | null | undefined)?.then === 'function';

/**
 * `tracer`, held to its contract: the call's outcome is the work's own, whatever the tracer makes
 * of it, and the work runs at most once, never after the tracer has settled. every context names
 * `clientId`: the facade's tracer publishes on channels every client of the process shares, where
 * two apps' messages (or staging's and production's) were one stream.
 *
 * - a tracer that runs the work but returns none (`undefined`, against its type) left the call
 *   returning `undefined` and its work uncounted, so `close()` resolved while a sign-in was still on
 *   its way to the store the app then closed: the work's own promise stands for it then. one that
 *   neither ran the work nor returned a promise fails the call, saying so.
 * - a tracer that throws or rejects after the work ran (its span exporter down), or resolves with
 *   something else (an async tracer that awaits the work and returns nothing) told a sign-in that
 *   was stored as failed, or handed `undefined` to every caller of a refresh: the work's outcome is
 *   handed back once the tracer settles, as a lock's function's outcome is (see `checkedLock`).
 * - a tracer that runs the work twice (a retry) spent a refresh token twice: the second call gets
 *   the first run's promise.
 * - a tracer that settles without running the work fails the call, naming the tracer; and work it
 *   starts after that (a timer) is refused: the caller was told the call's outcome already, and
 *   nobody would see it (a sign-out reported failed, made all the same, uncounted for `close()`).
 * - a tracer that throws synchronously, from `trace` or `isTracing`, made `handle()` throw where its
 *   caller expects a promise: the call's outcome is a promise whatever the tracer does.
 */
export const promisedTracer = (tracer: OAuthTracer, clientId: string): OAuthTracer => {
	const promised: OAuthTracer = {
		trace: <O extends TraceOperation, T>(
			operation: O,
			context: TraceContexts[O],
			fn: () => Promise<T>,
		): Promise<T> => {
			context.clientId = clientId;
			let work: Promise<T> | undefined;
			let over = false;
			const once = (): Promise<T> => {
				if (over) {
					const refused = Promise.reject(
						new TypeError(
							`the tracer's trace("${operation}") ran the work after its own promise settled: it was not run`,
						),
					);
					// the tracer's to see, not an unhandled rejection that ends the process (a tracer that
					// called it from a timer never looks)
					refused.catch(() => {});
					return refused;
				}
				if (work === undefined) {
					try {
						work = fn();
					} catch (err) {
						work = Promise.reject(err);
					}
				}
				return work;
			};
			/** the call's outcome once the tracer is done: the work's, if it ran. */
			const outcome = (tracerFailure?: { error: unknown }): Promise<T> => {
				over = true;
				if (work !== undefined) return work;
				if (tracerFailure !== undefined) return Promise.reject(tracerFailure.error);
				return Promise.reject(
					new TypeError(`the tracer's trace("${operation}") settled without running the work`),
				);
			};
			let traced: unknown;
			let thenable: boolean;
			try {
				traced = tracer.trace(operation, context, once);
				thenable = isThenable(traced);
			} catch (error) {
				// never thrown where the caller expects a promise (handle(), a refresh)
				return outcome({ error });
			}
			if (thenable) {
				return Promise.resolve(traced).then(
					() => outcome(),
					(error: unknown) => outcome({ error }),
				);
			}
			over = true;
			return (
				work ??
				Promise.reject(
					new TypeError(`the tracer's trace("${operation}") neither returned a promise nor ran the work`),
				)
			);
		},
	};
	if (tracer.isTracing !== undefined) {
		promised.isTracing = (operation) => {
			try {
				return tracer.isTracing!(operation);
			} catch {
				// traced, as a tracer without it is: what it throws must not throw out of handle(),
				// where the caller expects a promise, with nothing sent
				return true;
			}
		};
	}
	return promised;
};
