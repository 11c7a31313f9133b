import type { OAuthTracer } from '../tracer.ts';

/**
 * `tracer`, with what its `trace()` hands back made a promise: a tracer that runs the work but
 * returns none (`undefined`, against its type) left the call returning `undefined` and its work
 * uncounted, so `close()` resolved while a sign-in was still on its way to the store the app then
 * closed. the work's own promise stands for it then; a tracer that neither ran the work nor
 * returned a promise fails the call, saying so.
 */
export const promisedTracer = (tracer: OAuthTracer): OAuthTracer => {
	const promised: OAuthTracer = {
		trace: (operation, context, fn) => {
			let work: ReturnType<typeof fn> | undefined;
			const traced: unknown = tracer.trace(operation, context, () => {
				work = fn();
				return work;
			});
			if (typeof (traced as { then?: unknown } | null | undefined)?.then === 'function') {
				return traced as ReturnType<typeof fn>;
			}
			return (
				work ??
				Promise.reject(
					new TypeError(`the tracer's trace("${operation}") neither returned a promise nor ran the work`),
				)
			);
		},
	};
	if (tracer.isTracing !== undefined) promised.isTracing = (operation) => tracer.isTracing!(operation);
	return promised;
};
