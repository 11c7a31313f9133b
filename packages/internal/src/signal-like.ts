/**
 * whether `value` can stand for an `AbortSignal`: a native one, or one from another realm or a
 * polyfill, which is no `instanceof AbortSignal` here. it is checked for what every consumer
 * calls on a signal (a boolean `aborted`, the listener methods); a consumer that calls more (say,
 * `throwIfAborted`) checks that too. `null` and `undefined` are not signals: each consumer says
 * whether it takes them as "no signal".
 */
export const isSignalLike = (value: unknown): value is AbortSignal => {
	if (typeof AbortSignal === 'function' && value instanceof AbortSignal) return true;
	if (typeof value !== 'object' || value === null) return false;
	const like = value as Partial<AbortSignal>;
	return (
		typeof like.aborted === 'boolean' &&
		typeof like.addEventListener === 'function' &&
		typeof like.removeEventListener === 'function'
	);
};
