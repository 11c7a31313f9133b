// shared by @atcute/oauth-client and @atcute/oauth-discovery (each build inlines it): a server's
// Retry-After is read the same way whichever of them met it.
import { parseHttpDate } from './http-date.ts';

/** the longest wait a `Retry-After` is taken at: a server's typo must not park a client for days. */
export const MAX_RETRY_AFTER_MS: number = 60 * 60 * 1000;

/**
 * the wait a response's `Retry-After` asks for, in milliseconds (RFC 9110 §10.2.3): whole seconds,
 * or an HTTP date, counted from the response's own `Date` (the server's clock against itself, so
 * a skewed client clock does not stretch or cancel it) or else from `now`. at most
 * `MAX_RETRY_AFTER_MS`; undefined when absent or not valid.
 */
export const retryAfterMs = (headers: Headers, now: number): number | undefined => {
	const value = headers.get('retry-after')?.trim();
	if (!value) return undefined;
	let ms: number;
	if (/^\d+$/.test(value)) {
		ms = Number(value) * 1000;
	} else {
		// any of the three HTTP-date forms, each read as GMT (see parseHttpDate)
		const at = parseHttpDate(value);
		if (Number.isNaN(at)) return undefined;
		const sent = parseHttpDate(headers.get('date') ?? '');
		ms = at - (Number.isNaN(sent) ? now : sent);
	}
	return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
};
