import type { Sha256Function } from '@atcute/oauth-keys';
import { answeredElsewhere } from '@atcute-oauth/internal/answered-elsewhere';
import { readNonceWithin } from '@atcute-oauth/internal/read-nonce-within';
import {
	BODY_HEADERS,
	locationText,
	REDIRECT_STATUSES,
	redirectsToGet,
} from '@atcute-oauth/internal/redirect-statuses';
import { settleBefore } from '@atcute-oauth/internal/settle-before';
import { isSignalLike } from '@atcute-oauth/internal/signal-like';

import { computeAth } from './compute-ath.ts';
import { htuOf, signDpopProof } from './create-dpop-proof.ts';
import type { DpopKey } from './dpop-key.ts';
import { type DpopNonceCache, MemoryDpopNonceCache } from './dpop-nonce-cache.ts';
import { checkDpopKey } from './internal/check-dpop-key.ts';
import { dpopNonceOf } from './internal/dpop-nonce-of.ts';
import { toHeaderRecord } from './internal/header-record.ts';
import { isInvalidDpopProof } from './internal/is-invalid-dpop-proof.ts';
import { type Learning, nonceLearnersOf } from './internal/nonce-learners.ts';
import { isReplayableBody } from './is-replayable-body.ts';
import { isUseDpopNonceError } from './is-use-dpop-nonce-error.ts';
import type { ServerClocks } from './server-clocks.ts';

/** the shape of `fetch` this package takes and returns. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** options for `createDpopFetch`. */
export interface DpopFetchOptions {
	/** the key every proof is signed with. */
	key: DpopKey;
	/** where nonces are kept per origin; default a new `MemoryDpopNonceCache`. */
	nonces?: DpopNonceCache | undefined;
	/** the fetch to send requests with; default `globalThis.fetch`. */
	fetch?: FetchFunction | undefined;
	/** the clock for `iat`, in milliseconds since the epoch; default `Date.now`. unused with `clocks`. */
	now?: (() => number) | undefined;
	/**
	 * each server's clock for `iat` (share one between the fetches of a client); default none:
	 * every proof is stamped with `now`. with it, a request refused with `invalid_dpop_proof` is
	 * given to `clocks.adopt`, and retried once, stamped on the clock it then gives, when it says so.
	 */
	clocks?: ServerClocks | undefined;
	/**
	 * whether to retry once on `use_dpop_nonce` (and on `invalid_dpop_proof` with `clocks`);
	 * default true. turn it off to retry yourself when the body must change between attempts (a
	 * client assertion's `jti` is single-use); the nonce is learnt either way, and with `clocks` a
	 * server on its own clock follows its answers, but a refusal is then yours to give to
	 * `clocks.adopt`.
	 */
	retry?: boolean | undefined;
	/**
	 * how the `ath` (base64url SHA-256 of the access token) is computed; default WebCrypto's
	 * (`computeAth`). a synchronous one lets a request skip a turn of the event loop.
	 */
	sha256?: Sha256Function | undefined;
}

const AUTHORIZATION_DPOP = /^dpop /i;

// how many redirects fetch follows at most
const MAX_REDIRECTS = 20;
// written for one origin: never sent on to another (the proof is bound to its URL and token)
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'dpop'];

/**
 * the retries one call has made, whatever redirect hop they were made on: each cause is retried
 * once a call, not once a hop (a server that redirects to itself and refuses each hop's first
 * proof with a new nonce, or a new clock, made 3 requests a hop, 63 for one call).
 */
interface Retries {
	nonce: boolean;
	clock: boolean;
}

/** one request to send: where, how, and a way to send it with given headers. */
interface Hop {
	url: URL;
	method: string;
	headers: Record<string, string>;
	/** whether its body can be sent a second time. */
	replayable: boolean;
	/** the caller's signal: it bounds the waits on an async nonce cache too, not only the fetch. */
	signal: AbortSignal | null | undefined;
	send: (headers: Record<string, string>) => Promise<Response>;
	/** the first hop only: the same request with the caller's own redirect mode, left to fetch. */
	sendFollowing?: ((headers: Record<string, string>) => Promise<Response>) | undefined;
}

/** the most origins whose last nonce this fetch keeps beside an async or failing cache. */
const MAX_LEARNT = 1000;

/**
 * the longest nonce written to the nonce cache, in characters. servers send a few dozen (the
 * reference server 43); RFC 9449 sets no limit, and a hostile server (any handle or DID document
 * can name one) could send one as long as a header may be (16 KB on Node), which the cache, shared
 * by every fetch of a client, would hold for each of its origins. a longer one is kept by the fetch
 * that received it alone (as beside a cache that failed), for its retry and its next requests: the
 * other fetches (another session, a new sign-in) each pay a `use_dpop_nonce` round trip there.
 */
const MAX_NONCE_LENGTH = 1024;

/**
 * `promise`, or the signal's reason once it aborts. a signal fetch would not take either (not one
 * at all) bounds nothing here: fetch refuses it itself.
 */
const settleUnless = <T>(promise: Promise<T>, signal: AbortSignal | null | undefined): Promise<T> =>
	isSignalLike(signal) ? settleBefore(promise, signal) : promise;

/** `typeof`, with null told apart, for a message. */
const typeOf = (value: unknown): string => (value === null ? 'null' : typeof value);

/**
 * checks the options up front: a missing key or a fetch that is not a function would otherwise
 * fail only at the first request, far from the mistake, and a `retry: 'false'` would retry.
 */
const checkOptions = (options: DpopFetchOptions): void => {
	if (typeof options !== 'object' || options === null) {
		throw new TypeError(`createDpopFetch: options must be an object ({ key, ... }), got ${typeOf(options)}`);
	}
	const { key, nonces, fetch, now, clocks, retry, sha256 } = options;
	checkDpopKey('createDpopFetch: key', key);
	// by its methods, not instanceof: one from another installed copy of this package works too
	if (
		clocks !== undefined &&
		(typeof clocks !== 'object' ||
			clocks === null ||
			typeof clocks.now !== 'function' ||
			typeof clocks.offset !== 'function' ||
			typeof clocks.observe !== 'function' ||
			typeof clocks.adopt !== 'function')
	) {
		throw new TypeError(
			`createDpopFetch: clocks must be a ServerClocks, got ${typeof clocks === 'object' && clocks !== null ? 'an object without its methods' : typeOf(clocks)}`,
		);
	}
	for (const [name, value, expected] of [
		['fetch', fetch, 'a function (such as globalThis.fetch)'],
		['now', now, 'a function returning milliseconds since the epoch (as Date.now, not its result)'],
		['sha256', sha256, 'a function (such as computeAth)'],
	] as const) {
		if (value !== undefined && typeof value !== 'function') {
			throw new TypeError(`createDpopFetch: ${name} must be ${expected}, got ${typeOf(value)}`);
		}
	}
	// a string such as 'false' is truthy: it would turn retries on when meant to turn them off
	if (retry !== undefined && typeof retry !== 'boolean') {
		throw new TypeError(`createDpopFetch: retry must be a boolean, got ${typeOf(retry)}`);
	}
	if (
		nonces !== undefined &&
		(typeof nonces !== 'object' ||
			nonces === null ||
			typeof nonces.get !== 'function' ||
			typeof nonces.set !== 'function')
	) {
		throw new TypeError(
			`createDpopFetch: nonces must be a DpopNonceCache (with get and set), got ${typeof nonces === 'object' && nonces !== null ? 'an object without them' : typeOf(nonces)}`,
		);
	}
};

/**
 * what is wrong with a request URL a proof cannot be signed for (after "the request URL "), or
 * undefined: the checks `createDpopProof` makes of its htu, on the URL already parsed (two reads
 * of it per request). neither message repeats a user name or password, nor a query or fragment.
 */
const requestUrlProblem = (url: URL): string | undefined => {
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		return `must be an absolute http(s) URL, got ${JSON.stringify(url.protocol)}`;
	}
	if (url.username !== '' || url.password !== '') {
		// signed for and sent, they would be read by every server the request reaches
		return 'must not contain credentials (a user name or password)';
	}
	return undefined;
};

/**
 * wraps `fetch` so every request carries a DPoP proof: `ath` when it has an
 * `Authorization: DPoP` token, the origin's latest nonce when one is known. when none is, one
 * request goes to learn it, and the others to that origin wait until a nonce comes from there
 * (from any answer; at most 5 s from the learner's start, never past their signal), then go with
 * it, rather than each be refused. the fetches that share a `nonces` cache share this. an origin
 * that answers the learner without a nonce (a success) is not waited for again for 10 minutes,
 * unless it sends one. the nonce is learnt
 * from every response's `DPoP-Nonce`, and a request refused with `use_dpop_nonce` is retried
 * exactly once with the new nonce, unless its body cannot be sent again: a `ReadableStream`, or
 * any `Request` with a body (a stream too, which the first send reads; it is not buffered or
 * teed for a retry that is rarely needed). such a refusal, the server's 400 or 401, is returned
 * as it is, body unread, with the nonce learnt: the caller's next attempt carries it. a nonce
 * longer than 1,024 characters (a hostile server's) is kept by this fetch alone, never written to
 * `nonces`. with
 * `clocks`, a request refused with `invalid_dpop_proof` is likewise retried once when
 * `clocks.adopt` says so: stamped on the server's own clock, as its `Date` header reads it (or
 * back on ours, when its `Date` proved not to be the clock it checks with).
 * @throws {TypeError} when `key` is not a DPoP key, `fetch`, `now` or `sha256` is given but not a
 * function, `retry` is given but not a boolean, `nonces` is given but not a `DpopNonceCache`, or
 * `clocks` is given but not a `ServerClocks`; the fetch it returns rejects with a `TypeError`, before
 * anything is signed or sent, for a URL `createDpopProof` refuses as htu (not http(s), or with
 * credentials)
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-8
 */
export const createDpopFetch = (options: DpopFetchOptions): FetchFunction => {
	checkOptions(options);
	const {
		key,
		nonces = new MemoryDpopNonceCache(),
		fetch = globalThis.fetch,
		now = Date.now,
		clocks,
		retry: retryRefusals = true,
		sha256 = computeAth,
	} = options;
	const learners = nonceLearnersOf(nonces);

	// a session sends the same access token many times: hash it once. the hash is kept as a string
	// once known, so a request does not wait on a settled promise; a new token replaces it
	let athToken: string | undefined;
	let ath: string | Promise<string> | undefined;
	const athOf = (authorization: string | undefined): string | Promise<string> | undefined => {
		// only DPoP-bound tokens get an ath; a Bearer token is no business of the proof
		if (authorization === undefined || !AUTHORIZATION_DPOP.test(authorization)) return undefined;
		const token = authorization.slice(5).trim();
		if (token !== athToken) {
			// a hash that throws leaves nothing behind: the next request with this token tries again
			athToken = undefined;
			const hashed = sha256(token);
			athToken = token;
			ath = hashed;
			if (typeof hashed !== 'string') {
				hashed.then(
					(value) => {
						// only if no newer token replaced it meanwhile
						if (athToken === token) ath = value;
					},
					() => {
						// a failed hash is not kept: the next request with this token tries again
						if (athToken === token) athToken = undefined;
					},
				);
			}
		}
		return ath;
	};

	/** the last nonce learnt from each origin, beside a cache that is async or fails; oldest first. */
	const learnt = new Map<string, string>();
	/** the origins whose nonce in `learnt` the cache has not written (a write still out, or failed). */
	const unwritten = new Set<string>();
	// the nonce cache is an optimisation: when it fails, the server asks again and we retry. a
	// synchronous cache (the in-memory one) is read without waiting a turn
	const readNonce = (origin: string): string | undefined | Promise<string | undefined> => {
		// a nonce the cache has not written: newer than what it holds, if it holds any
		if (unwritten.has(origin)) return learnt.get(origin);
		try {
			const nonce = nonces.get(origin);
			// an empty nonce (kept by an earlier release) is none: a proof never carries nonce ""
			if (typeof nonce === 'string') return nonce || undefined;
			// an async cache, or none known (a cache may say null for that)
			return nonce == null
				? undefined
				: // a cache that stalls must not cost a request its deadline (a callback's, after which its
					// code counts as spent): past the bound it goes with the last nonce this fetch learnt
					// there (or none, and the server asks for one)
					readNonceWithin(
						nonce.then((value) => value || undefined),
						() => learnt.get(origin),
					);
		} catch {
			return undefined;
		}
	};
	/** the response's nonce, stored when it is new. */
	const learnNonce = (origin: string, response: Response, sent: string | undefined): string | undefined => {
		// an empty header is no nonce, and a header sent twice is one nonce (see dpopNonceOf)
		const nonce = dpopNonceOf(response.headers);
		if (nonce === undefined || nonce === sent) return nonce;
		// until its write lands, this fetch's next requests to the origin read it from here: a
		// retry that reads the cache (a caller's, with retry: false) must not send the nonce just
		// refused, nor a cache that is down cost every request its nonce
		const keep = () => {
			learnt.delete(origin);
			if (learnt.size >= MAX_LEARNT) {
				const oldest = learnt.keys().next().value!;
				learnt.delete(oldest);
				unwritten.delete(oldest);
			}
			learnt.set(origin, nonce);
			unwritten.add(origin);
		};
		// never written to the cache, which every fetch of the client shares, for 1,000 origins: this
		// fetch alone keeps it, for its retry and next requests (see MAX_NONCE_LENGTH)
		if (nonce.length > MAX_NONCE_LENGTH) {
			keep();
			return nonce;
		}
		let stored: void | Promise<void>;
		try {
			// not awaited: the response is here, and a cache that stalls or fails must not cost it (a
			// token answer lost to a slow write is a spent refresh token). the retry takes the nonce
			// from the header
			stored = nonces.set(origin, nonce);
		} catch {
			keep();
			return nonce;
		}
		if (stored === undefined) {
			// written already (a synchronous cache): it holds the newest
			unwritten.delete(origin);
		} else {
			keep();
			Promise.resolve(stored).then(
				() => {
					// landed: the cache speaks for the origin again, unless a newer nonce is still on its way
					if (learnt.get(origin) === nonce) unwritten.delete(origin);
				},
				() => {},
			);
		}
		return nonce;
	};

	/**
	 * the `iat` of a proof to `origin`: whole seconds on its clock. what a clock that is not one
	 * gives (NaN, undefined, a Date, a time before the epoch) fails the request here, naming it: sent,
	 * the proof's iat would be null or negative, and every server would refuse it as
	 * `invalid_dpop_proof`, with nothing to say why.
	 */
	const stampFor = (origin: string): number => {
		const ms = clocks === undefined ? now() : clocks.now(origin);
		const iat = Math.floor(ms / 1000);
		// a number, not what converts to one (a Date): a clock of the wrong kind is named, not used
		if (typeof ms !== 'number' || !(Number.isSafeInteger(iat) && iat >= 0)) {
			throw new TypeError(
				`createDpopFetch: ${clocks === undefined ? 'now' : 'clocks.now'}() must return milliseconds since the epoch, got ${typeof ms === 'number' ? ms : typeof ms}`,
			);
		}
		return iat;
	};

	/**
	 * one request with its proof (its own htu and jti, the origin's nonce, `iat` on the origin's
	 * clock), retried at most once for each cause when the body can be sent again: on
	 * `use_dpop_nonce` with a nonce we did not use, and on `invalid_dpop_proof` when `clocks.adopt`
	 * says the stamp changes. `retries` are the call's: shared by the hops of its redirects.
	 */
	const exchange = async (hop: Hop, retries: Retries): Promise<Response> => {
		const { url, method, headers, send } = hop;
		const { origin } = url;
		const htu = htuOf(url);
		let ath = athOf(headers.authorization?.trim());
		if (typeof ath === 'object') ath = await ath;

		let nonce = readNonce(origin);
		// an async cache that stalls (a store with no time limit of its own) must not outlast the
		// caller's signal, which the fetch alone would honour
		if (typeof nonce === 'object') nonce = await settleUnless(nonce, hop.signal);
		// none known: one request learns it, and the others wait until a nonce comes rather than each
		// send a proof the server refuses (a new process's first burst)
		let learning: Learning | undefined;
		if (nonce === undefined) {
			const turn = await learners.take(origin, hop.signal);
			learning = turn.learning;
			nonce = turn.nonce;
			if (learning === undefined && nonce === undefined) {
				// none came in time (or none is sent): what the cache holds by now, if anything
				nonce = readNonce(origin);
				if (typeof nonce === 'object') nonce = await settleUnless(nonce, hop.signal);
			}
		}
		let offset: number | undefined;
		let iat: number;
		/**
		 * what an answer teaches: its nonce lets the requests waiting for one go with it (a refusal's,
		 * only when it is not the one refused); the learner's first answer lets them go in any case.
		 */
		const teach = (
			response: Response,
			fresh: string | undefined,
			sent: string | undefined,
			refused: boolean,
		) => {
			if (fresh !== undefined && (!refused || fresh !== sent)) learners.taught(origin, fresh);
			if (learning !== undefined) {
				learners.answered(origin, learning, response);
				learning = undefined;
			}
		};
		try {
			offset = clocks?.offset(origin);
			iat = stampFor(origin);
			for (;;) {
				// key checked when this fetch was made, claims built here: signed without checking again
				headers.dpop = await signDpopProof(key, { htm: method, htu, nonce, ath }, iat);
				const response = await send(headers);
				// another origin's answer, reached by a redirect the fetch followed whatever `redirect`
				// said (an app's wrapper, or a browser's after an opaque redirect): its nonce, `Date` and
				// refusals are not this origin's, and a retry would send the proof there again
				if (answeredElsewhere(response, origin)) return response;
				const fresh = learnNonce(origin, response, nonce);
				clocks?.observe(origin, response, offset);

				const refused = response.status === 400 || response.status === 401;
				if (!retryRefusals || !refused) {
					teach(response, fresh, nonce, refused);
					return response;
				}
				// a refusal teaches once it is read: with the server's clock too, when it refused ours
				const sent = nonce;
				// retry only with a nonce we did not already send
				if (
					hop.replayable &&
					!retries.nonce &&
					fresh !== undefined &&
					fresh !== nonce &&
					(await isUseDpopNonceError(response))
				) {
					retries.nonce = true;
					nonce = fresh;
					// a new proof is a new stamp: the refused attempt may have taken seconds to answer
					offset = clocks?.offset(origin);
					iat = stampFor(origin);
				} else if (
					clocks !== undefined &&
					(await isInvalidDpopProof(response, ath !== undefined)) &&
					// told of every such refusal, a retry or not: it follows the server's clock, or goes
					// back to ours when the server refused its clock too
					clocks.adopt(origin, response.headers, offset) &&
					hop.replayable &&
					!retries.clock
				) {
					retries.clock = true;
					nonce = fresh ?? nonce;
					offset = clocks.offset(origin);
					iat = stampFor(origin);
				} else {
					teach(response, fresh, sent, true);
					return response;
				}
				teach(response, fresh, sent, true);
				// the refused response is dropped: free its connection. the next proof is a new one, so
				// a new jti: the server may remember the first one
				await response.body?.cancel().catch(() => {});
			}
		} finally {
			// failed before an answer, or reading it: the requests waiting for it go on without
			if (learning !== undefined) learners.answered(origin, learning, undefined);
		}
	};

	return async (input, init) => {
		let hop: Hop;
		let redirect: RequestRedirect;
		// what a request to another URL after a redirect keeps: the signal and the caller's options
		let rest: RequestInit;
		let body: RequestInit['body'];

		if (input instanceof Request) {
			const request = init === undefined ? input : new Request(input, init);
			redirect = request.redirect;
			const sendWith: RequestInit | undefined = redirect === 'follow' ? { redirect: 'manual' } : undefined;
			// what a later hop keeps of the Request (its URL, method, headers and body are the hop's own)
			const { signal, credentials, cache, keepalive, referrerPolicy } = request;
			rest = { signal, credentials, cache, keepalive, referrerPolicy };
			// a Request's body is a stream whatever it was made from: sent once, never re-sent
			body = request.body;
			hop = {
				url: new URL(request.url),
				method: request.method,
				headers: toHeaderRecord(request.headers),
				replayable: request.body === null,
				signal: request.signal,
				send: (headers) => fetch(new Request(request, { ...sendWith, headers })),
				sendFollowing: (headers) => fetch(new Request(request, { headers })),
			};
		} else {
			// a URL object is already parsed (and normalised) as fetch will send it
			const url = typeof input === 'string' ? new URL(input) : input;
			const href = url.href;
			// sent as written in htm: fetch only normalises the case of some methods
			const method = init?.method?.toUpperCase() ?? 'GET';
			redirect = init?.redirect ?? 'follow';
			rest = { ...init };
			body = init?.body;
			const sent: RequestInit = redirect === 'follow' ? { ...init, redirect: 'manual' } : { ...init };
			hop = {
				url,
				method,
				// a copy: the proof is never added to the caller's headers
				headers: toHeaderRecord(init?.headers),
				replayable: isReplayableBody(body),
				signal: init?.signal,
				send: (headers) => fetch(href, { ...sent, method, headers }),
				sendFollowing: (headers) => fetch(href, { ...init, method, headers }),
			};
		}

		// refused as createDpopProof and toHtu refuse them as htu, before anything is signed or sent
		const problem = requestUrlProblem(hop.url);
		if (problem !== undefined) throw new TypeError(`createDpopFetch: the request URL ${problem}`);

		// "manual" and "error" are the fetch's to apply
		// one budget of retries for the whole call, its redirects included
		const retries: Retries = { nonce: false, clock: false };
		if (redirect !== 'follow') return exchange(hop, retries);

		// redirects are followed here, not by fetch, which would send the first hop's proof (its htu
		// and jti) on to the next URL and learn another origin's nonce under this one's name: each
		// hop on the same origin gets a proof of its own, and one that leaves the origin leaves the
		// token and the proofs behind, as fetch leaves Authorization
		let proven = true;
		for (let redirects = 0; ; redirects++) {
			const response = proven ? await exchange(hop, retries) : await hop.send(hop.headers);
			if (response.type === 'opaqueredirect') {
				// a fetch that hides where a redirect leads (a browser's, for "manual"): it can only
				// follow it itself, as before this wrapper followed redirects, with the first proof
				if (!hop.replayable || hop.sendFollowing === undefined) return response;
				return exchange({ ...hop, send: hop.sendFollowing }, retries);
			}
			if (redirects > 0) Object.defineProperty(response, 'redirected', { value: true });
			const location = REDIRECT_STATUSES.has(response.status) ? response.headers.get('location') : null;
			// not a redirect, or one that says nowhere to go: the response, as fetch returns it
			if (location === null) return response;
			if (redirects === MAX_REDIRECTS) {
				await response.body?.cancel().catch(() => {});
				throw new TypeError(`fetch failed: more than ${MAX_REDIRECTS} redirects`);
			}
			let next: URL | undefined;
			try {
				// raw UTF-8 in the header read as fetch reads it, not encoded again byte by byte
				next = new URL(locationText(location), hop.url);
			} catch {
				// not a URL: refused below, as fetch refuses it
			}
			if (next === undefined || (next.protocol !== 'https:' && next.protocol !== 'http:')) {
				await response.body?.cancel().catch(() => {});
				throw new TypeError(`fetch failed: the redirect location is not an http(s) URL: ${location}`);
			}
			// the redirect's own body is not what the caller asked for: free its connection
			await response.body?.cancel().catch(() => {});

			const headers = { ...hop.headers };
			delete headers.dpop;
			let { method, replayable } = hop;
			// 303, and 301/302 after a POST, become a GET without a body (the Fetch standard's rule)
			if (redirectsToGet(response.status, method)) {
				method = 'GET';
				body = null;
				replayable = true;
				for (const name of BODY_HEADERS) delete headers[name];
			} else if (!hop.replayable) {
				// a Request's body, or a ReadableStream, was sent as a stream and is gone
				throw new TypeError(
					`fetch failed: cannot follow a ${response.status} redirect with a body that was streamed (a Request's body, or a ReadableStream): pass a URL and init with a string or bytes body instead`,
				);
			}
			if (next.origin !== hop.url.origin) {
				// credentials are for the origin they were written for
				for (const name of CREDENTIAL_HEADERS) delete headers[name];
				proven = false;
			}
			const href = next.href;
			const sent: RequestInit = { ...rest, method, body: body ?? null, redirect: 'manual' };
			hop = {
				url: next,
				method,
				headers,
				replayable,
				signal: rest.signal,
				send: (headers) => fetch(href, { ...sent, headers }),
			};
		}
	};
};
