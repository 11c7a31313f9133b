import type { Sha256Function } from '@atcute/oauth-keys';

import { computeAth } from './compute-ath.ts';
import { createDpopProof } from './create-dpop-proof.ts';
import type { DpopKey } from './dpop-key.ts';
import { type DpopNonceCache, MemoryDpopNonceCache } from './dpop-nonce-cache.ts';
import { toHeaderRecord } from './internal/header-record.ts';
import { isReplayableBody } from './is-replayable-body.ts';
import { isUseDpopNonceError } from './is-use-dpop-nonce-error.ts';

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
	/** the clock for `iat`, in milliseconds since the epoch; default `Date.now`. */
	now?: (() => number) | undefined;
	/**
	 * whether to retry once on `use_dpop_nonce`; default true. turn it off to retry yourself when
	 * the body must change between attempts (a client assertion's `jti` is single-use); the nonce
	 * is learnt either way.
	 */
	retry?: boolean | undefined;
	/**
	 * how the `ath` (base64url SHA-256 of the access token) is computed; default WebCrypto's
	 * (`computeAth`). a synchronous one lets a request skip a turn of the event loop.
	 */
	sha256?: Sha256Function | undefined;
}

const AUTHORIZATION_DPOP = /^dpop /i;

/**
 * wraps `fetch` so every request carries a DPoP proof: `ath` when it has an
 * `Authorization: DPoP` token, the origin's latest nonce when one is known. the nonce is learnt
 * from every response's `DPoP-Nonce`, and a request refused with `use_dpop_nonce` is retried
 * exactly once with the new nonce, unless its body cannot be sent again: a `ReadableStream`, or
 * any `Request` with a body (a stream too, which the first send reads; it is not buffered or
 * teed for a retry that is rarely needed). such a refusal, the server's 400 or 401, is returned
 * as it is, body unread, with the nonce learnt: the caller's next attempt carries it.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-8
 */
export const createDpopFetch = (options: DpopFetchOptions): FetchFunction => {
	const {
		key,
		nonces = new MemoryDpopNonceCache(),
		fetch = globalThis.fetch,
		now = Date.now,
		retry: retryOnNonce = true,
		sha256 = computeAth,
	} = options;

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

	// the nonce cache is an optimisation: when it fails, the server asks again and we retry. a
	// synchronous cache (the in-memory one) is read without waiting a turn
	const readNonce = (origin: string): string | undefined | Promise<string | undefined> => {
		try {
			const nonce = nonces.get(origin);
			// an empty nonce (kept by an earlier release) is none: a proof never carries nonce ""
			if (typeof nonce === 'string') return nonce || undefined;
			// an async cache, or none known (a cache may say null for that)
			return nonce == null
				? undefined
				: nonce.then(
						(value) => value || undefined,
						() => undefined,
					);
		} catch {
			return undefined;
		}
	};
	/** the response's nonce, once stored when it is new; a promise only while an async cache stores it. */
	const learnNonce = (origin: string, response: Response, sent: string | undefined) => {
		// an empty header (Headers strips surrounding whitespace) is no nonce: RFC 9449 §8.1 makes it
		// 1*NQCHAR, and storing it would replace a good one with a nonce the server cannot accept
		const nonce = response.headers.get('dpop-nonce') || undefined;
		if (nonce === undefined || nonce === sent) return nonce;
		try {
			const stored = nonces.set(origin, nonce);
			if (stored !== undefined)
				return stored.then(
					() => nonce,
					() => nonce,
				);
		} catch {}
		return nonce;
	};

	return async (input, init) => {
		let url: URL;
		let method: string;
		let headers: Record<string, string>;
		let replayable: boolean;
		let send: (headers: Record<string, string>) => Promise<Response>;

		if (input instanceof Request) {
			const request = init === undefined ? input : new Request(input, init);
			url = new URL(request.url);
			method = request.method;
			headers = toHeaderRecord(request.headers);
			// a Request's body is a stream whatever it was made from: sent once, never re-sent
			replayable = request.body === null;
			send = (headers) => fetch(new Request(request, { headers }));
		} else {
			// a URL object is already parsed (and normalised) as fetch will send it
			url = typeof input === 'string' ? new URL(input) : input;
			const href = url.href;
			// sent as written in htm: fetch only normalises the case of some methods
			method = init?.method?.toUpperCase() ?? 'GET';
			// a copy: the proof is never added to the caller's headers
			headers = toHeaderRecord(init?.headers);
			replayable = isReplayableBody(init?.body);
			send = (headers) => fetch(href, { ...init, method, headers });
		}

		const { origin, pathname } = url;
		const htu = origin + pathname;
		let ath = athOf(headers.authorization?.trim());
		if (typeof ath === 'object') ath = await ath;

		let nonce = readNonce(origin);
		if (typeof nonce === 'object') nonce = await nonce;
		const iat = Math.floor(now() / 1000);
		headers.dpop = await createDpopProof(key, { htm: method, htu, nonce, ath, iat });

		const response = await send(headers);
		let fresh = learnNonce(origin, response, nonce);
		if (typeof fresh === 'object') fresh = await fresh;

		// retry once, only with a nonce we did not already send, and only with a body we still have
		if (
			!retryOnNonce ||
			fresh === undefined ||
			fresh === nonce ||
			!replayable ||
			!(await isUseDpopNonceError(response))
		) {
			return response;
		}

		// the refused response is dropped: free its connection
		await response.body?.cancel().catch(() => {});

		// a new proof, so a new jti: the server may remember the first one
		headers.dpop = await createDpopProof(key, { htm: method, htu, nonce: fresh, ath, iat });
		const retry = await send(headers);
		await learnNonce(origin, retry, fresh);
		return retry;
	};
};
