// shared by @atcute/oauth-lock-redis and @atcute/oauth-store-postgres (each build inlines it): a
// lock holder's release must not hold back its result on a server that stopped answering; and by
// @atcute/oauth-dpop: a request waiting for another to learn a nonce waits so long at most.

/**
 * resolves when `promise` settles or after `ms`, whichever comes first; never rejects (give it a
 * promise that handles its own failure). what is left of `promise` goes on in the background.
 */
export const settleWithin = (promise: Promise<unknown>, ms: number): Promise<void> =>
	new Promise((resolve) => {
		const timer = setTimeout(resolve, ms);
		const done = (): void => {
			clearTimeout(timer);
			resolve();
		};
		promise.then(done, done);
	});
