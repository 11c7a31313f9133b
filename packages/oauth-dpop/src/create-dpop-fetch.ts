import { computeAth } from './compute-ath.ts';
import { createDpopProof } from './create-dpop-proof.ts';
import type { DpopKey } from './dpop-key.ts';
import { type DpopNonceCache, MemoryDpopNonceCache } from './dpop-nonce-cache.ts';
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
}

const AUTHORIZATION_DPOP = /^dpop /i;

/**
 * wraps `fetch` so every request carries a DPoP proof: `ath` when it has an
 * `Authorization: DPoP` token, the origin's latest nonce when one is known. the nonce is learnt
 * from every response's `DPoP-Nonce`, and a request refused with `use_dpop_nonce` is retried
 * exactly once with the new nonce, unless its body cannot be sent again (a stream).
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-8
 */
export const createDpopFetch = (options: DpopFetchOptions): FetchFunction => {
	const {
		key,
		nonces = new MemoryDpopNonceCache(),
		fetch = globalThis.fetch,
		now = Date.now,
		retry: retryOnNonce = true,
	} = options;

	// a session sends the same access token many times: hash it once
	let lastToken: string | undefined;
	let lastAth: Promise<string> | undefined;
	const athOf = (authorization: string | null): Promise<string> | undefined => {
		// only DPoP-bound tokens get an ath; a Bearer token is no business of the proof
		if (authorization === null || !AUTHORIZATION_DPOP.test(authorization)) return undefined;
		const token = authorization.slice(5).trim();
		if (token !== lastToken) {
			lastToken = token;
			lastAth = computeAth(token);
		}
		return lastAth;
	};

	// the nonce cache is an optimisation: when it fails, the server asks again and we retry
	const readNonce = async (origin: string): Promise<string | undefined> => {
		try {
			return await nonces.get(origin);
		} catch {
			return undefined;
		}
	};
	const learnNonce = async (origin: string, response: Response, sent: string | undefined) => {
		const nonce = response.headers.get('dpop-nonce') ?? undefined;
		if (nonce !== undefined && nonce !== sent) {
			try {
				await nonces.set(origin, nonce);
			} catch {}
		}
		return nonce;
	};

	return async (input, init) => {
		let url: string;
		let method: string;
		let headers: Headers;
		let replayable: boolean;
		let send: (headers: Headers) => Promise<Response>;

		if (input instanceof Request) {
			const request = init === undefined ? input : new Request(input, init);
			url = request.url;
			method = request.method;
			headers = new Headers(request.headers);
			replayable = request.body === null;
			send = (headers) => fetch(new Request(request, { headers }));
		} else {
			url = typeof input === 'string' ? input : input.href;
			// sent as written in htm: fetch only normalises the case of some methods
			method = init?.method?.toUpperCase() ?? 'GET';
			headers = new Headers(init?.headers);
			replayable = isReplayableBody(init?.body);
			send = (headers) => fetch(url, { ...init, method, headers });
		}

		const { origin, pathname } = new URL(url);
		const htu = origin + pathname;
		const ath = await athOf(headers.get('authorization'));

		const nonce = await readNonce(origin);
		const iat = Math.floor(now() / 1000);
		headers.set('dpop', await createDpopProof(key, { htm: method, htu, nonce, ath, iat }));

		const response = await send(headers);
		const fresh = await learnNonce(origin, response, nonce);

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
		headers.set('dpop', await createDpopProof(key, { htm: method, htu, nonce: fresh, ath, iat }));
		const retry = await send(headers);
		await learnNonce(origin, retry, fresh);
		return retry;
	};
};
