import type { HandleResolver } from '@atcute/identity-resolver';
import { IdentityResolutionError } from '@atcute/oauth-client';
import { kindOf } from '@atcute-oauth/internal/kind-of';
import { unprintableEscaped } from '@atcute-oauth/internal/unprintable-escaped';

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
 * DNS's own answers that the name has no record: no such name (`ENOTFOUND`, NXDOMAIN), or a name
 * with no TXT record (`ENODATA`: what a zone with a wildcard record answers for every name under
 * it, as a PDS's `*.<host>` does). `NodeDnsHandleResolver` reads only the first as "not found".
 */
const DNS_NO_RECORD = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * whether `error` is a method's answer that no retry changes, anywhere in its cause chain: one of
 * the resolvers' answer errors; an `IdentityResolutionError` other than `unavailable`
 * (`createWellKnownHandleResolver`'s `not_found` and `refused`); a refusal on purpose, marked
 * `transient: false` (the SSRF guard's `PrivateNetworkError`, under any resolver); from the DNS
 * method, DNS's "no record"; from the well-known method, the host's own 4xx but 408 and 429
 * (`@atcute/identity-resolver`'s `FailedResponseError`: the handle's host answered, where a DNS
 * over HTTPS server's 4xx says nothing of the handle). the well-known method's DNS failures are
 * its own to read: a proxy's name that does not resolve says nothing of the handle.
 */
const isAnswer = (error: unknown, fromDns: boolean): boolean => {
	for (let err = error, depth = 0; err instanceof Error && depth < 8; err = err.cause, depth++) {
		if (ANSWER_ERRORS.has(err.name)) return true;
		if (err instanceof IdentityResolutionError) return err.reason !== 'unavailable';
		const { code, status, transient } = err as { code?: unknown; status?: unknown; transient?: unknown };
		if (transient === false) return true;
		if (fromDns && DNS_NO_RECORD.has(code as string)) return true;
		if (!fromDns && err.name === 'FailedResponseError' && isVerdictStatus(status)) return true;
	}
	return false;
};

/** a 4xx that is the server's verdict, not a passing state (408 and 429 are). */
const isVerdictStatus = (status: unknown): boolean =>
	typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429;

/**
 * what both methods' answers (no DID) make: the well-known method's refusal on purpose when it
 * made one (the SSRF guard, which names the host: its `IdentityResolutionError` `refused`, or the
 * method's own error over the guard's, which the client reads as `refused`), else the handle not
 * found, with the DNS method's answer as the cause (the client reads `not_found` from it, whatever
 * error the method threw).
 */
const bothAnswered = (handle: string, dnsAnswer: unknown, httpAnswer: unknown): unknown => {
	const refusal = refusalIn(httpAnswer);
	if (refusal !== undefined) return refusal === 'unmarked' ? httpAnswer : refusal;
	return new IdentityResolutionError(handle, {
		reason: 'not_found',
		detail: dnsAnswerDetail(dnsAnswer) ?? 'neither DNS nor the well-known method has a DID for it',
		cause: dnsAnswer,
	});
};

/** `text` quoted, with what must not reach a log line escaped (`\u202e`). */
const printable = (text: string): string => unprintableEscaped(JSON.stringify(text));

/**
 * what the DNS method found when it found something no DID can be taken from: several `did=`
 * records (the handle spec's failure, not "no DID"), or a value that is no atproto DID. undefined
 * for "no record".
 * @see https://atproto.com/specs/handle#dns-txt-method
 */
const dnsAnswerDetail = (answer: unknown): string | undefined => {
	for (let err = answer, depth = 0; err instanceof Error && depth < 8; err = err.cause, depth++) {
		if (err.name === 'AmbiguousHandleError') {
			return 'its DNS names more than one DID (several did= TXT records), and the well-known method has none';
		}
		const { did } = err as { did?: unknown };
		if (err.name === 'InvalidResolvedHandleError' && typeof did === 'string') {
			// what a TXT record holds, anyone's text: cut, and escaped before it reaches a log line
			return `its DNS names ${printable(did.slice(0, 256))}, which is no atproto DID, and the well-known method has none`;
		}
	}
	return undefined;
};

/**
 * the refusal on purpose on `error`'s cause chain: an `IdentityResolutionError` `refused`, or
 * `unmarked` for another error marked `transient: false` (the guard's own) under no
 * `IdentityResolutionError`.
 */
const refusalIn = (error: unknown): IdentityResolutionError | 'unmarked' | undefined => {
	for (let err = error, depth = 0; err instanceof Error && depth < 8; err = err.cause, depth++) {
		if (err instanceof IdentityResolutionError) return err.reason === 'refused' ? err : undefined;
		if ((err as { transient?: unknown }).transient === false) return 'unmarked';
	}
	return undefined;
};

/**
 * a handle resolver that asks the DNS and HTTPS well-known methods at once and takes the first
 * DID either finds, as `@atcute/identity-resolver`'s `CompositeHandleResolver` does with its
 * default `race` strategy, with one difference when both fail: that one throws whichever failed
 * last, so a handle published by one method alone reads as unknown (`not_found`, not transient)
 * whenever its method is down for a moment and answers before the other says "no record". this
 * one throws a failure to ask (a network error, a 5xx, a time-out) whenever either method had
 * one, as an `IdentityResolutionError` `unavailable` (transient), and a "no such handle" only when
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
		 * @throws {IdentityResolutionError} when neither found a DID: `unavailable` (transient) when a
		 *   method could not ask (DNS or the host unreachable, a 5xx; its failure the `cause`), else
		 *   `not_found` (the DNS answer the `cause`), or the well-known method's own `refused`
		 * @throws the signal's reason as soon as `signal` aborts
		 */
		resolve: async (handle, resolveOptions = {}) => {
			const { signal } = resolveOptions;
			signal?.throwIfAborted();
			// the method still asking is stopped once the other has found the DID, or the caller left
			const controller = new AbortController();
			const asked = [dns, http].map((method) =>
				Promise.resolve().then(() =>
					method.resolve(handle, { ...resolveOptions, signal: controller.signal }),
				),
			);
			return new Promise((resolve, reject) => {
				/** settles the call once, stopping what still runs and leaving the caller's signal. */
				const settle = (finish: () => void) => {
					signal?.removeEventListener('abort', onAbort);
					controller.abort(signal?.reason);
					finish();
				};
				// at once: a method that does not heed its signal (a DNS query runs to its end) must not
				// hold the caller
				const onAbort = () => settle(() => reject(signal?.reason));
				signal?.addEventListener('abort', onAbort, { once: true });
				const failures: unknown[] = [];
				let failed = 0;
				for (const [index, asking] of asked.entries()) {
					asking.then(
						(did) => settle(() => resolve(did)),
						(err: unknown) => {
							failures[index] = err;
							if (++failed < asked.length) return;
							const [dnsFailure, httpFailure] = failures;
							const dnsAnswered = isAnswer(dnsFailure, true);
							const httpAnswered = isAnswer(httpFailure, false);
							// a failure to ask is an outage, whichever came last, and is said to be one: the
							// client's own reading of the failure (a DNS over HTTPS resolver's 4xx, say) could
							// take it for a verdict. dns's first, the method the spec names first
							settle(() =>
								reject(
									dnsAnswered && httpAnswered
										? bothAnswered(handle, dnsFailure, httpFailure)
										: new IdentityResolutionError(handle, {
												detail: `the ${dnsAnswered ? 'well-known' : 'DNS'} method could not be asked`,
												cause: dnsAnswered ? httpFailure : dnsFailure,
											}),
								),
							);
						},
					);
				}
			});
		},
	};
};
