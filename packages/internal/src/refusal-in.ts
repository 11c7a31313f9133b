// shared by @atcute/oauth-discovery and @atcute/oauth-client (each build inlines it): a fetch that
// failed because a guard refused it must not be reported as a network failure worth retrying.

/**
 * the error in a failed fetch's cause chain that says it is not transient (`transient: false`):
 * a refusal made on purpose, such as an SSRF guard's `PrivateNetworkError`, which no retry
 * changes. a few levels deep: fetch wraps the transport's error once or twice.
 */
export const refusalIn = (error: unknown): Error | undefined => {
	let current = error;
	for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
		if ((current as { transient?: unknown }).transient === false && current instanceof Error) return current;
		current = (current as { cause?: unknown }).cause;
	}
	return undefined;
};
