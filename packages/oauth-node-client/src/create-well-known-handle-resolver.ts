import type { HandleResolver } from '@atcute/identity-resolver';
import { IdentityResolutionError, type IdentityResolutionFailure } from '@atcute/oauth-client';
import { atprotoDidProblem } from '@atcute-oauth/internal/atproto-names';
import { kindOf } from '@atcute-oauth/internal/kind-of';
import { readCappedBody } from '@atcute-oauth/internal/read-capped-body';
import { locationText, REDIRECT_STATUSES } from '@atcute-oauth/internal/redirect-statuses';

/** options of `createWellKnownHandleResolver`. */
export interface WellKnownHandleResolverOptions {
	/**
	 * the fetch every request goes through, each redirect hop on its own: give it the client's
	 * transport (`createNodeFetch(...)`) so that the SSRF guard checks every host a redirect names.
	 */
	fetch: typeof globalThis.fetch;
	/** how many redirects a lookup follows before it fails: an integer from 0 to 20; default 5. */
	maxRedirects?: number | undefined;
}

/**
 * whether `error`'s cause chain has DNS's answer that `hostname` has no address (`ENOTFOUND`, or
 * Deno's message for it).
 * the lookup's own `hostname` must be that one: another's (an outbound proxy's that does not
 * resolve) says nothing of the handle, and every handle would read as unknown.
 */
const hasNoSuchName = (error: unknown, hostname: string, onGlobalFetch: boolean): boolean => {
	for (let err = error, depth = 0; typeof err === 'object' && err !== null && depth < 8; depth++) {
		const { code, hostname: looked, message } = err as Record<string, unknown>;
		if (code === 'ENOTFOUND' && looked === hostname) return true;
		// Deno's has no code, only the message, naming no host but the handle URL's, proxy or not:
		// believed only from the global fetch with no proxy variable. a fetch of the app's own may
		// go through a proxy (Deno.createHttpClient) whose name did not resolve: an outage
		if (typeof message === 'string' && DENO_NO_SUCH_NAME.some((text) => message.endsWith(text))) {
			return onGlobalFetch && !denoMayProxy();
		}
		err = (err as { cause?: unknown }).cause;
	}
	return false;
};

/**
 * Deno's fetch has no `code`: its `TypeError('fetch failed')` has a plain `Error` cause whose
 * message ends with getaddrinfo's own text (seen on Deno 2.9.6, glibc: `error sending request for
 * url (https://typo.test/): client error (Connect): dns error: failed to lookup address
 * information: Name or service not known`). the texts of EAI_NONAME and EAI_NODATA (which Node
 * reads as ENOTFOUND too), glibc's and macOS's; EAI_AGAIN's, `Temporary failure in name
 * resolution`, is no answer and stays `unavailable`.
 */
const DENO_NO_SUCH_NAME = [
	'dns error: failed to lookup address information: Name or service not known',
	'dns error: failed to lookup address information: No address associated with hostname',
	'dns error: failed to lookup address information: nodename nor servname provided, or not known',
];

/** the proxy variables Deno's fetch reads on its own, for an https: URL. */
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy'];

/**
 * whether Deno's fetch may go through a proxy: its message for a proxy whose name does not resolve
 * is the same, naming the handle's URL. unknown (no `env` permission) counts as may: `querySync`
 * never prompts.
 */
const denoMayProxy = (): boolean => {
	const deno = (globalThis as { Deno?: DenoEnv }).Deno;
	if (deno === undefined) return false;
	try {
		return PROXY_VARIABLES.some(
			(variable) =>
				deno.permissions?.querySync?.({ name: 'env', variable }).state !== 'granted' ||
				!!deno.env?.get(variable),
		);
	} catch {
		return true;
	}
};

/** what `denoMayProxy` reads of the running Deno. */
interface DenoEnv {
	env?: { get: (variable: string) => string | undefined };
	permissions?: { querySync?: (descriptor: { name: 'env'; variable: string }) => { state: string } };
}

/** the most `maxRedirects` takes: what a browser's fetch follows. */
const MAX_REDIRECTS = 20;

/** a DID is far shorter: a longer answer is a page served for every path, not this document. */
const MAX_ANSWER_BYTES = 2048;

/**
 * a handle resolver for the HTTPS well-known method (`https://<handle>/.well-known/atproto-did`)
 * that follows redirects, as the atproto handle spec allows, where `@atcute/identity-resolver`'s
 * `WellKnownHandleResolver` refuses them (a handle whose host redirects, to `www.` or to another
 * host, fails there). it follows at most `maxRedirects`, each hop through `fetch` on its own (so a
 * guarded transport checks every host a redirect names) and only to `https:`. the answer is the
 * first line of a 2xx answer's body, trimmed, which must be an atproto DID in canonical form (a
 * `did:web` held to the handle's rules: no IP address, no port but on localhost).
 * @see https://atproto.com/specs/handle#https-well-known-method
 * @throws {TypeError} when an option is not what it should be
 */
export const createWellKnownHandleResolver = (options: WellKnownHandleResolverOptions): HandleResolver => {
	if (typeof options !== 'object' || options === null) {
		throw new TypeError(`createWellKnownHandleResolver: options must be an object (got ${kindOf(options)})`);
	}
	const { fetch, maxRedirects = 5 } = options;
	if (typeof fetch !== 'function') {
		throw new TypeError(
			`createWellKnownHandleResolver: fetch must be a function, such as createNodeFetch() (got ${kindOf(fetch)})`,
		);
	}
	if (!Number.isInteger(maxRedirects) || maxRedirects < 0 || maxRedirects > MAX_REDIRECTS) {
		throw new TypeError(
			`createWellKnownHandleResolver: maxRedirects must be an integer from 0 to ${MAX_REDIRECTS} (got ${typeof maxRedirects === 'number' ? maxRedirects : kindOf(maxRedirects)})`,
		);
	}
	// whether Deno's message for a name with no address can be believed (see hasNoSuchName)
	const onGlobalFetch = fetch === globalThis.fetch;
	return {
		/**
		 * the DID `handle`'s host names at its well-known URL.
		 * @throws {IdentityResolutionError} `not_found` when the handle's host name does not exist
		 *   (DNS's `ENOTFOUND`), or the host answers 404, another 4xx, or a body that is no DID;
		 *   `refused` when the transport refused a hop on purpose (the SSRF guard); `unavailable`
		 *   for a network failure, a 408, 429 or 5xx, or a redirect it does not follow (a loop, a
		 *   hop to `http:`, no `Location`): a redirect can stand in for an outage
		 * @throws the signal's reason when `signal` aborts
		 */
		resolve: async (handle, { signal, noCache } = {}) => {
			const failure = (reason: IdentityResolutionFailure, detail: string, cause?: unknown): never => {
				throw new IdentityResolutionError(handle, { reason, detail, cause });
			};
			let url = new URL('/.well-known/atproto-did', `https://${handle}`);
			let response: Response;
			for (let hops = 0; ; hops++) {
				try {
					response = await fetch(url, {
						signal: signal ?? null,
						// a fresh look when asked for (a handle checked again), as the resolver's caller means it
						...(noCache ? { cache: 'no-cache' } : {}),
						// one hop at a time: the guard, and the https rule below, see every host
						redirect: 'manual',
					});
				} catch (err) {
					if (signal?.aborted) throw signal.reason;
					// a refusal made on purpose (the SSRF guard) says so: a retry meets the same refusal
					const refused = (err as { transient?: unknown } | null)?.transient === false;
					// the handle's own host name does not exist (DNS answered, with no address): a typo,
					// not an outage, as the DNS method reads its own ENOTFOUND (Deno: its message). a DNS
					// server that could not answer says EAI_AGAIN instead, and a redirect's target may be
					// a moment's misstep, so both stay `unavailable`
					if (!refused && hops === 0 && hasNoSuchName(err, url.hostname, onGlobalFetch)) {
						return failure('not_found', `${url.hostname} has no address`, err);
					}
					return failure(refused ? 'refused' : 'unavailable', `${url.origin} could not be reached`, err);
				}
				if (!REDIRECT_STATUSES.has(response.status)) break;
				// the redirect's own body is not read: let its connection go back to the pool
				void response.body?.cancel().catch(() => {});
				const location = response.headers.get('location');
				if (location === null)
					return failure('unavailable', `${url.origin} answered ${response.status} with no Location`);
				if (hops >= maxRedirects) {
					return failure('unavailable', `more than ${maxRedirects} redirects, the last from ${url.origin}`);
				}
				let next: URL;
				try {
					// raw UTF-8 in the header read as fetch reads it, not encoded again byte by byte
					next = new URL(locationText(location), url);
				} catch {
					return failure('unavailable', `${url.origin} redirected to a Location that is no URL`);
				}
				// the handle spec wants the DID from a server that proves its name: no hop to plain http
				if (next.protocol !== 'https:') {
					return failure('unavailable', `${url.origin} redirected to ${next.protocol}, not https:`);
				}
				url = next;
			}
			if (!response.ok) {
				void response.body?.cancel().catch(() => {});
				const { status } = response;
				const passing = status >= 500 || status === 408 || status === 429 || (status >= 300 && status < 400);
				return failure(passing ? 'unavailable' : 'not_found', `${url.origin} answered ${status}`);
			}
			let body: Uint8Array | undefined;
			try {
				body =
					response.body === null ? new Uint8Array() : await readCappedBody(response.body, MAX_ANSWER_BYTES);
			} catch (err) {
				if (signal?.aborted) throw signal.reason;
				return failure('unavailable', `${url.origin} broke off its answer`, err);
			}
			const did = body === undefined ? undefined : new TextDecoder().decode(body).split('\n', 1)[0]!.trim();
			// an atproto DID in canonical form, held to the handle's rules (no did:web on an IP address
			// or on a port, but for localhost): what the host names is fetched next
			if (did === undefined || atprotoDidProblem(did, true) !== undefined) {
				return failure('not_found', `${url.origin} answered with no DID`);
			}
			return did as `did:${'plc' | 'web'}:${string}`;
		},
	};
};
