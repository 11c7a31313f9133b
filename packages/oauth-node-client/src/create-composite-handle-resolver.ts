import type { HandleResolver } from '@atcute/identity-resolver';
import { IdentityResolutionError } from '@atcute/oauth-client';
import { kindOf } from '@atcute-oauth/internal/kind-of';

/** options of `createCompositeHandleResolver`. */
export interface CompositeHandleResolverOptions {
	/** the DNS method (`_atproto.<handle>` TXT): `NodeDnsHandleResolver`, say. */
	dns: HandleResolver;
	/** the HTTPS well-known method: `createWellKnownHandleResolver({ fetch })`, say. */
	http: HandleResolver;
}

/**
 * the errors of `@atcute/identity-resolver`'s resolvers that are a method's answer about the
 * handle (no such record, two DIDs, no valid DID), not a failure to ask.
 */
const ANSWER_ERRORS = new Set(['DidNotFoundError', 'AmbiguousHandleError', 'InvalidResolvedHandleError']);

/**
 * whether `error` is a method's answer that no retry changes: one of the resolvers' answer errors,
 * or an `IdentityResolutionError` other than `unavailable` (`createWellKnownHandleResolver`'s
 * `not_found` and `refused`), anywhere in its cause chain.
 */
const isAnswer = (error: unknown): boolean => {
	for (let err = error, depth = 0; err instanceof Error && depth < 8; err = err.cause, depth++) {
		if (ANSWER_ERRORS.has(err.name)) return true;
		if (err instanceof IdentityResolutionError) return err.reason !== 'unavailable';
	}
	return false;
};

/**
 * a handle resolver that asks the DNS and HTTPS well-known methods at once and takes the first
 * DID either finds, as `@atcute/identity-resolver`'s `CompositeHandleResolver` does with its
 * default `race` strategy, with one difference when both fail: that one throws whichever failed
 * last, so a handle published by one method alone reads as unknown (`not_found`, not transient)
 * whenever its method is down for a moment and answers before the other says "no record". this
 * one throws a failure to ask (a network error, a 5xx, a time-out) whenever either method had
 * one, so the client reports it as `unavailable` (transient), and a "no such handle" only when
 * both methods answered so.
 * @throws {TypeError} when an option is not a handle resolver
 */
export const createCompositeHandleResolver = (options: CompositeHandleResolverOptions): HandleResolver => {
	if (typeof options !== 'object' || options === null) {
		throw new TypeError(`createCompositeHandleResolver: options must be an object (got ${kindOf(options)})`);
	}
	const { dns, http } = options;
	for (const [name, method] of [
		['dns', dns],
		['http', http],
	] as const) {
		if (typeof method?.resolve !== 'function') {
			throw new TypeError(
				`createCompositeHandleResolver: ${name} must be a handle resolver, with a resolve method (got ${kindOf(method)})`,
			);
		}
	}
	return {
		/**
		 * the DID the first method to find one names.
		 * @throws the failure of a method that could not ask (DNS or the host unreachable, a 5xx),
		 *   when neither found a DID; else the DNS method's answer (no record, say)
		 * @throws the signal's reason when `signal` aborts
		 */
		resolve: async (handle, resolveOptions = {}) => {
			const { signal } = resolveOptions;
			signal?.throwIfAborted();
			// the method still asking is stopped once the other has found the DID, or the caller left
			const controller = new AbortController();
			const forward = () => controller.abort(signal?.reason);
			signal?.addEventListener('abort', forward, { once: true });
			const ask = (method: HandleResolver) =>
				Promise.resolve().then(() =>
					method.resolve(handle, { ...resolveOptions, signal: controller.signal }),
				);
			const asked = [ask(dns), ask(http)];
			return new Promise((resolve, reject) => {
				const failures: unknown[] = [];
				let failed = 0;
				const done = () => {
					signal?.removeEventListener('abort', forward);
					controller.abort();
				};
				for (const [index, asking] of asked.entries()) {
					asking.then(
						(did) => {
							done();
							resolve(did);
						},
						(err: unknown) => {
							failures[index] = err;
							if (++failed < asked.length) return;
							done();
							// the caller's own abort is thrown as such, as by every resolver
							if (signal?.aborted) return reject(signal.reason);
							// dns first: the one a typo meets first, and the one the spec names first
							reject(failures.find((failure) => !isAnswer(failure)) ?? failures[0]);
						},
					);
				}
			});
		},
	};
};
