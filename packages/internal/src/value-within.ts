// shared by @atcute/oauth-dpop and @atcute/oauth-client (each build inlines it): a read of the app's
// DPoP nonce cache that stalls (a shared store that lost the request) gives way after a bound,
// rather than hold a request, and its body, for ever.

/**
 * `promise`'s value, or `fallback()` when it fails or once `ms` have passed, whichever comes first;
 * never rejects. what is left of `promise` goes on in the background, its failure handled here.
 */
export const valueWithin = <T, F>(promise: PromiseLike<T>, ms: number, fallback: () => F): Promise<T | F> =>
	new Promise((resolve) => {
		const timer = setTimeout(() => resolve(fallback()), ms);
		Promise.resolve(promise).then(
			(value) => {
				clearTimeout(timer);
				resolve(value);
			},
			() => {
				clearTimeout(timer);
				resolve(fallback());
			},
		);
	});
