// shared by @atcute/oauth-dpop and @atcute/oauth-client (each build inlines it): both read the app's
// DPoP nonce cache before a request, and a cache that stalls (a shared store that lost the request)
// must not hold that request, and its body, for ever; both give way after the same time.

/** how long a read of the DPoP nonce cache is waited for before a request goes without it. */
export const NONCE_READ_MS = 1_000;

/**
 * `read`'s value, or `fallback()` when it fails or once `NONCE_READ_MS` has passed, whichever comes
 * first; never rejects. what is left of `read` goes on in the background, its failure handled here.
 */
export const readNonceWithin = <T, F>(read: PromiseLike<T>, fallback: () => F): Promise<T | F> =>
	new Promise((resolve) => {
		const timer = setTimeout(() => resolve(fallback()), NONCE_READ_MS);
		Promise.resolve(read).then(
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
